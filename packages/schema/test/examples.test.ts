import { describe, expect, it } from 'vitest';
import {
  ConfiguredState,
  IsolationLevel,
  isExtensionEnabled,
  JobStatus,
  jobIdFromHandle,
  LoadBalancing,
  parseAdminErrorBody,
  parseAdminSuccess,
  parseJob,
  parseJobHandle,
  parseJobList,
  parseRestErrorBody,
  parseService,
  parseTokenResponse,
  readErrorBody,
  resultObject,
  ServiceProvider,
  ServiceType,
  tokenExpiresAt,
} from '../src/index.js';
import { fixture, fixtureNames } from './fixtures.js';

/** Which parser each reference example must pass. */
const kindOf: Record<string, (input: unknown) => unknown> = {
  'admin-error-token-not-found': parseAdminErrorBody,
  'admin-success': parseAdminSuccess,
  'error-invalid-token': parseRestErrorBody,
  'error-token-required': parseRestErrorBody,
  'handle-backup-create': parseJobHandle,
  'handle-stop-async': parseJobHandle,
  'job-completed-edit': parseJob,
  'job-executing': parseJob,
  'jobs-list': parseJobList,
  token: parseTokenResponse,
};

describe('reference examples', () => {
  it('has a parser for every example file, and a file for every parser', () => {
    expect(fixtureNames).toEqual(Object.keys(kindOf).sort());
  });

  it.each(fixtureNames)('%s validates as its kind and comes back unchanged', (name) => {
    const parse = kindOf[name]!;
    const body = fixture(name);
    const copy = structuredClone(body);
    const parsed = parse(body);
    expect(parsed).toBe(body);
    expect(parsed).toEqual(copy);
  });

  it('the executing job has not ended and carries no result', () => {
    const job = parseJob(fixture('job-executing'));
    expect(job.status).toBe(JobStatus.EXECUTING);
    expect(job.endtime).toBe(0);
    expect(job.result).toBeUndefined();
  });

  it('reads the id from both handle spellings', () => {
    expect(jobIdFromHandle(parseJobHandle(fixture('handle-backup-create')))).toBe(
      'j5f0b2a8e-2c1d-4b7e-9a51-0c3e8d2f4a11',
    );
    const stop = parseJobHandle(fixture('handle-stop-async'));
    expect(jobIdFromHandle(stop)).toBe('ja2ca1a35-881c-400c-a49a-b26883002d6c');
    expect(stop.jobStatus).toBe('SUBMITTED');
  });

  it('reads the token response', () => {
    const token = parseTokenResponse(fixture('token'));
    expect(tokenExpiresAt(token)).toBe(1700003600000);
    expect(token.ssl).toBe(true);
  });

  it('reads both error examples as errors and the success body as none', () => {
    expect(readErrorBody(fixture('error-invalid-token'))?.code).toBe(498);
    expect(readErrorBody(fixture('admin-error-token-not-found'))?.code).toBe(499);
    expect(readErrorBody(fixture('admin-success'))).toBeUndefined();
  });
});

describe("the seed's completed edit job", () => {
  const job = parseJob(fixture('job-completed-edit'));

  it('has every job field', () => {
    expect(job.jobid).toBe('j47c0c626-7188-4053-be06-ae93de987b01');
    expect(job.status).toBe(JobStatus.COMPLETED);
    expect(job.starttime).toBe(1635961389632);
    expect(job.endtime).toBe(1635961402584);
    expect(job.updatedtime).toBe(1635961402579);
    expect(job.operationURI).toBe('/context/admin/services/FireWeatherWatch.MapServer/edit');
    expect(job.username).toBe('serviceAdmin');
    expect(job.messages).toBeUndefined();
  });

  it('carries a typed service with its description properties', () => {
    const service = resultObject(job)?.service;
    expect(service).toBeDefined();
    if (!service) return;
    expect(service.serviceName).toBe('FireWeatherWatch');
    expect(service.type).toBe(ServiceType.MapServer);
    expect(service.description).toBe(
      'Updating description using the edit operation, run asynchronously',
    );
    expect(service.capabilities).toBe('Map,Query,Data');
    expect(service.provider).toBe(ServiceProvider.ArcObjects11);
    expect(service.id).toBe('sckomokcru548qo27uhde');
    expect(service.deploymentId).toBe('kx21q2lis4z5beekzep0k');
    expect(service.clusterName).toBe('default');
    expect(service.private).toBe(false);
    expect(service.folderName).toBe('');
    expect(service.isDefault).toBe(false);
  });

  it('carries the framework properties', () => {
    const s = resultObject(job)!.service!;
    expect(s.minInstancesPerNode).toBe(1);
    expect(s.maxInstancesPerNode).toBe(2);
    expect(s.instancesPerContainer).toBe(1);
    expect(s.maxWaitTime).toBe(60);
    expect(s.maxStartupTime).toBe(300);
    expect(s.maxIdleTime).toBe(180);
    expect(s.maxUsageTime).toBe(600);
    expect(s.recycleInterval).toBe(24);
    expect(s.recycleStartTime).toBe('00:00');
    expect(s.keepAliveInterval).toBe(-1);
    expect(s.loadBalancing).toBe(LoadBalancing.ROUND_ROBIN);
    expect(s.isolationLevel).toBe(IsolationLevel.HIGH);
    expect(s.configuredState).toBe(ConfiguredState.STOPPED);
    expect(s.frameworkProperties).toEqual({});
    expect(s.maxUploadFileSize).toBe(0);
    expect(s.allowedUploadFileTypes).toBe('');
  });

  it('carries the type properties as strings', () => {
    const props = resultObject(job)!.service!.properties!;
    expect(Object.keys(props)).toHaveLength(17);
    for (const value of Object.values(props)) expect(typeof value).toBe('string');
    expect(props.maxRecordCount).toBe('1000');
    expect(props.filePath).toBe('/arcgis/framework/etc/data/WorldCities/WorldCities.msd');
    expect(props.serviceId).toBe('sckomokcru548qo27uhde');
    expect(props.outputStore).toBe('{...}');
  });

  it('carries the extensions, with enabled read as a boolean', () => {
    const extensions = resultObject(job)!.service!.extensions!;
    expect(extensions.map((e) => e.typeName)).toEqual(['WMSServer', 'KmlServer', 'FeatureServer']);
    expect(extensions.map(isExtensionEnabled)).toEqual([true, true, false]);
    const [wms, kml, feature] = extensions;
    expect(wms!.capabilities).toBe(
      'GetCapabilities,GetFeatureInfo,GetLegendGraphic,GetMap,GetSchemaExtension,GetStyles',
    );
    expect(wms!.properties).toEqual({ name: 'SampleWorldCities', title: 'WMS' });
    expect(kml!.properties?.featureLimit).toBe('1000000');
    expect(feature!.capabilities).toBe('Create,Query,Update,Delete,Uploads');
    expect(feature!.maxUploadFileSize).toBe(0);
    expect(feature!.allowedUploadFileTypes).toBe('');
    expect(feature!.properties).toEqual({});
  });

  it('carries datasets and portal properties', () => {
    const s = resultObject(job)!.service!;
    expect(s.datasets).toEqual([]);
    expect(s.portalProperties?.isHosted).toBe(false);
    expect(s.portalProperties?.portalItems).toEqual([
      { itemID: '79b641d2e7234b898cb56313d44a41f4', type: 'WMSServer' },
    ]);
  });

  it('parses the service on its own too', () => {
    const service = parseService(
      fixture<{ result: { service: unknown } }>('job-completed-edit').result.service,
    );
    expect(service.serviceName).toBe('FireWeatherWatch');
  });
});
