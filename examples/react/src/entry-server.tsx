// The server's entry: the app as HTML. Nothing here defines an element or touches the DOM.
import { renderToString } from 'react-dom/server';
import { App, type AppProps } from './App.js';

export type { AppProps };

/** The app rendered with `props`, as HTML for `<div id="root">`. */
export function render(props: AppProps): string {
  return renderToString(<App {...props} />);
}
