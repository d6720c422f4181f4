import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJobId } from '@jobwatch/schema';
import type { AdminApi } from './admin.js';
import type { SourceAnswer, SourceRequest } from './auth.js';
import { handleControl } from './control.js';
import { answerGp } from './gp-api.js';
import { type Format, restError, send, sendBody } from './http.js';
import type { ResolvedOptions } from './options.js';
import { answerPortal } from './portal-api.js';
import {
  applyCors,
  gatewayFault,
  readParams,
  rejectMethod,
  sendError,
  splitUrl,
} from './request.js';
import { pathSegments, resolveTarget, type Target } from './routes.js';
import { answerServerAdmin } from './server-api.js';
import type { SimRoute, Site } from './site.js';

const HOST_HEADER = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** Where the simulator listens, known once it does. */
export interface Listening {
  origin: string;
  port: number;
}

/** Tells the request log what a request turned out to be. */
export interface Tracker {
  route(route: SimRoute): void;
  fault(kind: string): void;
}

/** Answers one HTTP request, whatever it is. */
export type Dispatch = (req: IncomingMessage, res: ServerResponse, track: Tracker) => Promise<void>;

const HEADINGS: Record<Target['family'], string | undefined> = {
  token: undefined,
  enterprise: undefined,
  server: 'ArcGIS Server Administrator Directory',
  gp: 'ArcGIS REST Services Directory',
  portal: 'ArcGIS Portal Directory',
};

/** The job id a request reads, for the per-job counters. */
function jobIdOf(target: Target, query: string): string | undefined {
  let id: string | null | undefined;
  if (target.family === 'enterprise' && target.route === 'job') id = target.admin[1];
  else if (target.family === 'server' && target.route === 'serverJob') id = target.admin[2];
  else if (target.family === 'gp' && target.route === 'gpJob')
    id = target.rest[target.rest.length - 1];
  else if (target.family === 'portal' && target.route === 'itemStatus') {
    try {
      id = new URLSearchParams(query).get('jobId');
    } catch {
      id = undefined;
    }
  }
  return id !== undefined && id !== null && isJobId(id) ? id : undefined;
}

/**
 * Creates the request handler: the control surface, then every ArcGIS route through one
 * pipeline — resolve, count, CORS, method, parameters, faults, format — and the answer of
 * the source the path names.
 */
export function createDispatch(
  site: Site,
  api: AdminApi,
  o: ResolvedOptions,
  control: boolean,
  listening: Listening,
): Dispatch {
  function answerOf(
    target: Target,
    req: IncomingMessage,
    params: URLSearchParams,
    rawPath: string,
  ): SourceAnswer {
    const request: SourceRequest = {
      method: req.method ?? 'GET',
      headers: req.headers,
      params,
      origin: originOf(req),
      path: rawPath,
    };
    switch (target.family) {
      case 'token':
        return api.generateToken(params, rawPath);
      case 'enterprise':
        return api.answer({ ...request, admin: target.admin, target: target.target });
      case 'server':
        return answerServerAdmin(site, request, target.route, target.admin);
      case 'gp':
        return answerGp(site, request, target.route, target.rest);
      case 'portal':
        return answerPortal(site, request, target.route, target.sharing);
    }
  }

  function originOf(req: IncomingMessage): string {
    const host = req.headers.host;
    return typeof host === 'string' && HOST_HEADER.test(host) ? `http://${host}` : listening.origin;
  }

  return async function dispatch(req, res, track) {
    const { rawPath, query } = splitUrl(req.url ?? '/');
    if (rawPath === '/__sim' || rawPath.startsWith('/__sim/')) {
      track.route('sim');
      site.count('sim');
      if (!control) return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
      return handleControl(site, req, res, rawPath.slice('/__sim'.length), {
        origin: listening.origin,
        port: listening.port,
        maxBodyBytes: o.maxBodyBytes,
        contexts: o.contexts,
      });
    }
    const segments = pathSegments(rawPath);
    if (!segments) {
      site.count('other');
      return sendError(res, 400, 'Invalid URL.', [
        'The path has dot segments, encoded slashes or characters that are not allowed.',
      ]);
    }
    if (segments[segments.length - 1] === '') segments.pop();
    const target = resolveTarget(segments, o.contexts);
    if (!target) {
      site.count('other');
      return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
    }
    track.route(target.route);
    site.count(target.route, jobIdOf(target, query));
    if (applyCors(req, res, o.cors) || rejectMethod(req, res)) return;
    const params = await readParams(req, res, query, o.maxBodyBytes);
    if (!params) return;

    const decision = site.faults.decide(target.route, rawPath);
    if (decision) {
      track.fault(decision.kind);
      site.countFault(decision.kind);
      if (await gatewayFault(req, res, decision)) return;
    }
    const f = params.get('f') ?? 'html';
    if (f !== 'html' && f !== 'json' && f !== 'pjson') {
      const body = restError(400, `Invalid format '${f.slice(0, 32)}'.`, [
        'Supported formats: html, json, pjson.',
      ]);
      return sendBody(res, 'json', 'Error', body, decision);
    }
    site.settle();
    const answer = answerOf(target, req, params, rawPath);
    sendBody(res, f as Format, answer.title, answer.body, decision, 200, HEADINGS[target.family]);
  };
}
