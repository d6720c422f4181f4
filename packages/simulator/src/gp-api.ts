import { isJobId } from '@jobwatch/schema';
import { authenticate, finish, refused, type SourceAnswer, type SourceRequest } from './auth.js';
import { gpJobBody, gpStateAt } from './gp-jobs.js';
import { GP_TASKS, type GpTask, readInputs } from './gp-tasks.js';
import { restError } from './http.js';
import type { SimRoute, Site } from './site.js';

const VERSION = 11.3;

/** `Unable to complete operation.` with a detail, as GP services answer a bad request. */
function unable(detail: string): Record<string, unknown> {
  return restError(400, 'Unable to complete operation.', [detail]);
}

/** The task a path names (`[<folder>/]<service>/GPServer/<task>/…`), if published. */
function taskOf(rest: readonly string[]): { task?: GpTask; service?: string; at: number } {
  const at = rest.indexOf('GPServer');
  if (at < 1 || at > 2) return { at: -1 };
  const folder = at === 2 ? rest[0]! : '';
  const service = rest[at - 1]!;
  const name = rest[at + 1];
  const known = GP_TASKS.filter((t) => t.folder === folder && t.service === service);
  if (known.length === 0) return { at: -1 };
  return {
    service: `${folder ? `${folder}/` : ''}${service}`,
    task: known.find((t) => t.name === name),
    at,
  };
}

function parameterJson(task: GpTask) {
  return task.parameters.map((p) => ({
    name: p.name,
    dataType: p.dataType,
    displayName: p.displayName,
    description: p.description,
    direction: p.direction,
    defaultValue: p.defaultValue ?? null,
    parameterType: p.parameterType,
    category: '',
    ...(p.choiceList ? { choiceList: p.choiceList } : {}),
  }));
}

/** The catalogue's resources: root, folder, GPServer service and task. */
function catalogue(rest: readonly string[]): unknown {
  if (rest.length === 0)
    return {
      currentVersion: VERSION,
      folders: [...new Set(GP_TASKS.map((t) => t.folder))],
      services: [],
    };
  if (rest.length === 1) {
    const services = [
      ...new Set(
        GP_TASKS.filter((t) => t.folder === rest[0]).map((t) => `${t.folder}/${t.service}`),
      ),
    ];
    return services.length === 0
      ? restError(404, 'Folder not found.')
      : {
          currentVersion: VERSION,
          folders: [],
          services: services.map((name) => ({ name, type: 'GPServer' })),
        };
  }
  const { task, service, at } = taskOf(rest);
  if (at < 0 || !service) return restError(404, 'Service not found.');
  if (rest.length === at + 1) {
    const tasks = GP_TASKS.filter((t) => `${t.folder}/${t.service}` === service);
    return {
      currentVersion: VERSION,
      serviceDescription: tasks[0]?.description ?? '',
      tasks: tasks.map((t) => t.name),
      executionType: 'esriExecutionTypeAsynchronous',
      resultMapServerName: '',
      maximumRecords: 1000,
      capabilities: 'Uploads',
    };
  }
  if (!task) return restError(400, 'Invalid URL', ['Invalid URL']);
  if (rest.length === at + 2)
    return {
      name: task.name,
      displayName: task.displayName,
      description: task.description,
      category: '',
      helpUrl: '',
      executionType: 'esriExecutionTypeAsynchronous',
      parameters: parameterJson(task),
    };
  if (rest.length === at + 3 && rest[at + 2] === 'execute')
    return unable('Execute operation is not allowed on this service; use submitJob.');
  return restError(400, 'Invalid URL', ['Invalid URL']);
}

/**
 * Answers a request under `/<server>/rest/services/…`: the catalogue, tasks, `submitJob`
 * (GET or POST) → `{jobId, jobStatus}`, `jobs/<jobId>`, `jobs/<jobId>/cancel`, and a job's
 * `results/<param>` and `inputs/<param>` → `{paramName, dataType, value}`.
 */
export function answerGp(
  site: Site,
  req: SourceRequest,
  route: SimRoute,
  rest: readonly string[],
): SourceAnswer {
  const title = rest.length > 0 ? rest.join(' / ') : 'Services Directory';
  const auth = authenticate(site, req, title, 'rest');
  if (refused(auth)) return auth;
  const answer = (body: unknown, exact = false): SourceAnswer =>
    finish(site, req, { title, body, exact });
  if (route === 'gpCatalog') return answer(catalogue(rest));
  const { task, at } = taskOf(rest);
  if (!task) return answer(restError(400, 'Invalid URL', ['Invalid URL']));
  const now = site.clock.now();
  if (route === 'gpSubmit') {
    const inputs = readInputs(task, (name) => req.params.get(name) ?? undefined);
    if (typeof inputs === 'string') return answer(unable(inputs));
    const job = site.sources.submitGpJob(task, inputs, now);
    return answer({ jobId: job.id, jobStatus: 'esriJobSubmitted' });
  }
  const id = rest[at + 3] ?? '';
  if (!isJobId(id))
    return answer(unable('Invalid job id: a job id is made of letters, digits, "-" and "_".'));
  const job = site.sources.gp.get(id, now);
  if (!job || job.task !== task)
    return answer(restError(404, `Job '${id}' does not exist or is inaccessible.`), true);
  switch (route) {
    case 'gpJob':
      return answer(gpJobBody(job, now, site.quirks.forJob(job.id, job.quirks)), true);
    case 'gpCancel': {
      const state = gpStateAt(job, now).status;
      if (state !== 'esriJobExecuting' && state !== 'esriJobWaiting')
        return answer(unable('Invalid or missing input parameters.'));
      job.cancelledAt = now;
      return answer({ jobId: job.id, jobStatus: 'esriJobCancelling' });
    }
    default: {
      const kind = rest[at + 4] as 'results' | 'inputs';
      const name = rest[at + 5] ?? '';
      const p = task.parameters.find(
        (x) =>
          x.name === name &&
          x.direction ===
            (kind === 'results'
              ? 'esriGPParameterDirectionOutput'
              : 'esriGPParameterDirectionInput'),
      );
      if (!p) return answer(unable(`Parameter '${name.slice(0, 64)}' does not exist.`));
      if (kind === 'inputs')
        return answer({
          paramName: p.name,
          dataType: p.dataType,
          value: job.inputs[p.name] ?? null,
        });
      if (gpStateAt(job, now).status !== 'esriJobSucceeded')
        return answer(unable('The job has not succeeded: its results are not available.'));
      return answer({
        paramName: p.name,
        dataType: p.dataType,
        value: job.outputs()[p.name] ?? null,
      });
    }
  }
}
