import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { raw } from './helpers.js';

let sim: Simulator;
let token: string;
let jobid: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 17 });
  token = sim.issueToken();
  jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
});
afterAll(() => sim.close());

/** Every resource route, as a path; `:jobid` is filled in once the job exists. */
const resources = [
  ['site', '/arcgis/admin'],
  ['jobsList', '/arcgis/admin/jobs'],
  ['job', '/arcgis/admin/jobs/:jobid'],
  ['services', '/arcgis/admin/services'],
  ['services (folder)', '/arcgis/admin/services/Hosted'],
  ['service', '/arcgis/admin/services/SampleWorldCities.MapServer'],
  ['service (in a folder)', '/arcgis/admin/services/Hosted/Parcels.FeatureServer'],
  ['stores', '/arcgis/admin/system/disasterrecovery/stores'],
];

const get = (p: string, params: Record<string, string>) =>
  raw(`${sim.url}${p}?${new URLSearchParams(params)}`);
const post = (p: string, params: Record<string, string>) =>
  raw(`${sim.url}${p}`, {
    method: 'POST',
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

describe('f: html by default, json, pjson — over GET and POST', () => {
  it.each(resources)(
    '%s answers the same body over GET and POST in every format',
    async (_name, route) => {
      const p = route.replace(':jobid', jobid);
      const json = await get(p, { f: 'json', token });
      expect(json.headers['content-type']).toBe('application/json;charset=utf-8');
      const body = JSON.parse(json.text);
      expect(body.error).toBeUndefined();
      expect(JSON.parse((await post(p, { f: 'json', token })).text)).toEqual(body);

      const pretty = await get(p, { f: 'pjson', token });
      expect(pretty.text).toBe(JSON.stringify(body, null, 2));
      expect(pretty.headers['content-type']).toBe('text/plain;charset=utf-8');

      for (const html of [
        await get(p, { token }),
        await post(p, { token }),
        await get(p, { f: 'html', token }),
      ]) {
        expect(html.status).toBe(200);
        expect(html.headers['content-type']).toBe('text/html;charset=utf-8');
        expect(html.text).toMatch(/^<!DOCTYPE html>/);
        expect(html.text).toContain('ArcGIS Enterprise Administrator Directory');
      }
    },
  );

  it('answers generateToken over GET and POST in every format', async () => {
    const creds = { username: 'admin', password: 'admin' };
    expect(
      JSON.parse((await get('/arcgis/sharing/rest/generateToken', { ...creds, f: 'json' })).text)
        .token,
    ).toBeTruthy();
    expect(
      JSON.parse((await post('/arcgis/sharing/rest/generateToken', { ...creds, f: 'pjson' })).text)
        .token,
    ).toBeTruthy();
    expect((await post('/arcgis/sharing/rest/generateToken', creds)).text).toContain(
      '<title>Generate Token</title>',
    );
  });

  it('answers operations over POST in every format, and errors in HTML too', async () => {
    expect(
      JSON.parse(
        (
          await post('/arcgis/admin/services/SampleWorldCities.MapServer/start', {
            f: 'pjson',
            token,
          })
        ).text,
      ),
    ).toEqual({ status: 'success' });
    expect(
      (await post('/arcgis/admin/services/SampleWorldCities.MapServer/start', { token })).text,
    ).toContain('&quot;status&quot;: &quot;success&quot;');
    const htmlError = await get('/arcgis/admin/jobs', {});
    expect(htmlError.status).toBe(200);
    expect(htmlError.text).toContain('Token Required');
  });

  it('escapes what it echoes into HTML', async () => {
    const r = await get('/arcgis/admin/services/x<script>.MapServer', { token });
    expect(r.text).not.toContain('<script>');
    expect(r.text).toContain('&lt;script&gt;');
  });
});
