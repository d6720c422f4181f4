/**
 * The app: rendered to HTML on the server, hydrated in the browser. It follows one job and
 * lists every job, and keeps its own React state from the elements' events.
 */
import { useState } from 'react';
import { JobwatchJob, JobwatchJobs } from './jobwatch.js';

/** What the server renders the app with, and hands to the browser to hydrate it with. */
export interface AppProps {
  /** The daemon's base URL as the browser reaches it. */
  readonly daemon: string;
  /** The job to follow, if any. */
  readonly jobId: string | null;
}

// Properties, not attributes: a function and an object. The page's server holds the daemon's
// API key and trades it for a short-lived event-stream ticket.
const ticketProvider = async (): Promise<string> => {
  const answer = await fetch('/jobwatch-ticket', { method: 'POST' });
  if (!answer.ok) throw new Error(`jobwatch ticket: HTTP ${answer.status}`);
  return ((await answer.json()) as { ticket: string }).ticket;
};
const messages = { COMPLETED: 'Deployed' };

export function App({ daemon, jobId }: AppProps) {
  const [changes, setChanges] = useState<string[]>([]);
  const [outcome, setOutcome] = useState<string | null>(null);
  return (
    <main>
      <h1>Deployments</h1>
      {jobId && (
        <section aria-label="Followed job">
          <JobwatchJob
            job-id={jobId}
            daemon={daemon}
            ticketProvider={ticketProvider}
            messages={messages}
            onJobChange={(event) =>
              setChanges((seen) => [...seen, event.detail.status ?? 'pending'])
            }
            onJobEnd={(event) =>
              setOutcome(`Job ${event.detail.jobid} ended: ${event.detail.status}`)
            }
          />
          <p role="status" className="outcome">
            {outcome ?? 'Running…'}
          </p>
          <ol className="changes" aria-label="Changes seen">
            {changes.map((status, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: an append-only log
              <li key={i}>{status}</li>
            ))}
          </ol>
        </section>
      )}
      <h2>Every job</h2>
      <JobwatchJobs daemon={daemon} ticketProvider={ticketProvider} messages={messages} />
    </main>
  );
}
