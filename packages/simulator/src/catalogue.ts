import type { Service } from '@jobwatch/schema';
import { type Random, randomAlnum, randomHex } from './random.js';

/** Names a service: folder (`''` for the root), name and type. */
export interface ServiceKey {
  readonly folder: string;
  readonly name: string;
  readonly type: string;
}

/** `Folder/Name.Type`, or `Name.Type` in the root folder. */
export function serviceKeyString(key: ServiceKey): string {
  return `${key.folder ? `${key.folder}/` : ''}${key.name}.${key.type}`;
}

interface Seed {
  folder: string;
  name: string;
  type: string;
  provider: string;
  state: 'STARTED' | 'STOPPED';
  description: string;
}

const SEEDS: readonly Seed[] = [
  {
    folder: '',
    name: 'SampleWorldCities',
    type: 'MapServer',
    provider: 'ArcObjects11',
    state: 'STARTED',
    description: 'World cities, for samples and tests.',
  },
  {
    folder: '',
    name: 'FireWeatherWatch',
    type: 'MapServer',
    provider: 'DMaps',
    state: 'STOPPED',
    description: 'Fire weather watch areas.',
  },
  {
    folder: 'Hosted',
    name: 'Parcels',
    type: 'FeatureServer',
    provider: 'SDS',
    state: 'STARTED',
    description: 'Land parcels, editable.',
  },
  {
    folder: 'Hosted',
    name: 'Basemap',
    type: 'VectorTileServer',
    provider: 'SDS',
    state: 'STARTED',
    description: 'A vector tile basemap.',
  },
  {
    folder: 'Utilities',
    name: 'Geometry',
    type: 'GeometryServer',
    provider: 'ArcObjects11',
    state: 'STARTED',
    description: 'Geometry operations.',
  },
  {
    folder: 'Utilities',
    name: 'PrintingTools',
    type: 'GPServer',
    provider: 'ArcObjects11',
    state: 'STARTED',
    description: 'Export web maps for printing.',
  },
  {
    folder: 'Locators',
    name: 'WorldGeocoder',
    type: 'GeocodeServer',
    provider: 'ArcObjects11',
    state: 'STOPPED',
    description: 'Address search.',
  },
  {
    folder: 'Imagery',
    name: 'Elevation',
    type: 'ImageServer',
    provider: 'ArcObjects11',
    state: 'STARTED',
    description: 'Terrain elevation.',
  },
];

const CAPABILITIES: Record<string, string> = {
  MapServer: 'Map,Query,Data',
  FeatureServer: 'Query,Create,Update,Delete,Uploads,Editing',
  VectorTileServer: 'TilesOnly',
  GeometryServer: '',
  GPServer: '',
  GeocodeServer: 'Geocode,ReverseGeocode,Suggest',
  ImageServer: 'Image,Metadata,Catalog',
};

function extensionsFor(seed: Seed): Service['extensions'] {
  if (seed.type !== 'MapServer') return [];
  return [
    {
      allowedUploadFileTypes: '',
      capabilities:
        'GetCapabilities,GetFeatureInfo,GetLegendGraphic,GetMap,GetSchemaExtension,GetStyles',
      maxUploadFileSize: 0,
      typeName: 'WMSServer',
      enabled: 'true',
      properties: { name: seed.name, title: 'WMS' },
    },
    {
      allowedUploadFileTypes: '',
      capabilities: 'SingleImage,SeparateImages,Vectors',
      maxUploadFileSize: 0,
      typeName: 'KmlServer',
      enabled: 'true',
      properties: {
        compatibilityMode: 'GoogleEarth',
        useDefaultSnippets: 'true',
        featureLimit: '1000000',
        minRefreshPeriod: '30',
        imageSize: '1024',
        dpi: '96',
      },
    },
    {
      allowedUploadFileTypes: '',
      capabilities: 'Create,Query,Update,Delete,Uploads',
      maxUploadFileSize: 0,
      typeName: 'FeatureServer',
      enabled: 'false',
      properties: {},
    },
  ];
}

function propertiesFor(seed: Seed, id: string): Record<string, string> {
  const common = {
    outputDir: '/arcgisusr/directories/arcgisoutput',
    virtualOutputDir: '/rest/directories/arcgisoutput',
    serviceId: id,
  };
  if (seed.type === 'MapServer') {
    return {
      useLocalCacheDir: 'true',
      ...common,
      cacheDir: '/arcgisusr/directories/arcgiscache',
      maxScale: '4000',
      filePath: `/arcgis/framework/etc/data/${seed.name}/${seed.name}.msd`,
      maxRecordCount: '1000',
      supportedImageReturnTypes: 'MIME+URL',
      clientCachingAllowed: 'true',
      isCached: 'false',
      maxExportTilesCount: '100000',
      ignoreCache: 'false',
      exportTilesAllowed: 'false',
      outputStore: '{"type":"objectStore","path":"/arcgisusr/directories/arcgisoutput"}',
      cacheOnDemand: 'false',
      minScale: '295000000',
    };
  }
  if (seed.type === 'FeatureServer')
    return { ...common, maxRecordCount: '2000', allowGeometryUpdates: 'true' };
  return common;
}

/** Builds one service JSON with the same fields as a real one (see the reference's edit example). */
function buildService(seed: Seed, random: Random): Service {
  const id = randomAlnum(random, 21);
  const service: Service = {
    allowedUploadFileTypes: '',
    private: false,
    maxUsageTime: 600,
    description: seed.description,
    maxInstancesPerNode: 2,
    minInstancesPerNode: 1,
    datasets: [],
    type: seed.type,
    frameworkProperties: {},
    instancesPerContainer: 1,
    recycleStartTime: '00:00',
    maxUploadFileSize: 0,
    provider: seed.provider,
    clusterName: 'default',
    deploymentId: randomAlnum(random, 21),
    id,
    maxStartupTime: 300,
    capabilities: CAPABILITIES[seed.type] ?? '',
    maxWaitTime: 60,
    recycleInterval: 24,
    maxIdleTime: 180,
    serviceName: seed.name,
    loadBalancing: 'ROUND_ROBIN',
    keepAliveInterval: -1,
    configuredState: seed.state,
    isDefault: false,
    extensions: extensionsFor(seed),
    isolationLevel: seed.provider === 'SDS' ? 'LOW' : 'HIGH',
    folderName: seed.folder,
    properties: propertiesFor(seed, id),
    portalProperties: {
      isHosted: seed.folder === 'Hosted',
      portalItems: [{ itemID: randomHex(random, 32), type: seed.type }],
    },
  };
  if (seed.type === 'FeatureServer')
    service.jsonProperties = { layers: [{ id: 0, name: seed.name }] };
  return service;
}

/** The services of the simulated site, by folder; edits, starts, stops and deletes change it. */
export class Catalogue {
  readonly #services = new Map<string, Service>();
  readonly #folders = new Set<string>();
  #all: Service[] | undefined;

  /** Seeds the catalogue with a fixed set of services of several types and providers. */
  constructor(random: Random) {
    for (const seed of SEEDS) {
      if (seed.folder) this.#folders.add(seed.folder);
      this.#services.set(serviceKeyString(seed), buildService(seed, random));
    }
  }

  /** Whether a folder exists (the root always does). */
  hasFolder(folder: string): boolean {
    return folder === '' || this.#folders.has(folder);
  }

  /** The service, or `undefined`. The returned object is live; copy before handing out. */
  get(key: ServiceKey): Service | undefined {
    return this.#services.get(serviceKeyString(key));
  }

  /** All services, in catalogue order (a shared array: do not change it). */
  all(): readonly Service[] {
    this.#all ??= [...this.#services.values()];
    return this.#all;
  }

  /** `GET <root>/services[/<folder>]`'s body. */
  list(folder: string): Record<string, unknown> {
    const services = this.all()
      .filter((s) => (s.folderName ?? '') === folder)
      .map((s) => ({
        folderName: folder === '' ? '/' : folder,
        serviceName: s.serviceName,
        type: s.type,
        description: s.description ?? '',
      }));
    return folder === ''
      ? {
          folderName: '/',
          description: 'Root folder',
          webEncrypted: false,
          isDefault: true,
          folders: [...this.#folders].sort(),
          services,
        }
      : { folderName: folder, description: '', webEncrypted: false, isDefault: false, services };
  }

  /** Replaces a service's JSON by an edited one; name, type, folder and id stay. */
  edit(key: ServiceKey, edited: Service): Service | undefined {
    const current = this.get(key);
    if (!current) return undefined;
    const next: Service = {
      ...current,
      ...structuredClone(edited),
      serviceName: current.serviceName,
      type: current.type,
      folderName: current.folderName,
      id: current.id,
      configuredState: current.configuredState,
    };
    this.#services.set(serviceKeyString(key), next);
    this.#all = undefined;
    return next;
  }

  /** Sets `configuredState`. */
  setState(key: ServiceKey, state: 'STARTED' | 'STOPPED'): Service | undefined {
    const current = this.get(key);
    if (current) current.configuredState = state;
    return current;
  }

  /** Removes a service. */
  delete(key: ServiceKey): boolean {
    this.#all = undefined;
    return this.#services.delete(serviceKeyString(key));
  }
}
