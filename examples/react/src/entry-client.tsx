// The browser's entry. Hydrate first, define the elements after: the server-rendered elements
// then upgrade with the properties React gave them (`daemon`, `ticketProvider`, `messages`)
// already in place — Lit takes over properties set before an element upgrades — so none of
// them opens its stream before it knows how to ask for a ticket.
import { useEffect } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { App, type AppProps } from './App.js';

function Client(props: AppProps) {
  // Passive effects run after the layout effects in which the wrappers set the properties.
  useEffect(() => {
    void import('@jobwatch/widget/define');
  }, []);
  return <App {...props} />;
}

const props = JSON.parse(document.getElementById('app-props')?.textContent ?? '{}') as AppProps;
const root = document.getElementById('root');
if (root) hydrateRoot(root, <Client {...props} />);
