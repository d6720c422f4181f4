/**
 * The credentials a page hands an element: a ticket for the daemon's stream, or a token for
 * direct mode. Their own module, so the lazily loaded direct mode and the sources that load
 * it both name them without importing each other.
 */

/** Returns a short-lived ticket for the daemon's event stream. */
export type TicketProvider = () => Promise<string>;

/** Returns a token the page already holds; called again with `refresh: true` after the server refused one. */
export type TokenProvider = (context: {
  readonly refresh: boolean;
  readonly signal?: AbortSignal;
}) => Promise<string> | string;
