// The browser's entry. Define the elements first: the wrappers then know which props are
// element properties, and the elements upgrade before React hydrates them.
import '@jobwatch/widget/define';
import { hydrateRoot } from 'react-dom/client';
import { App, type AppProps } from './App.js';

const props = JSON.parse(document.getElementById('app-props')?.textContent ?? '{}') as AppProps;
const root = document.getElementById('root');
if (root) hydrateRoot(root, <App {...props} />);
