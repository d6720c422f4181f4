import Type, { type Static } from 'typebox';
import { parser } from './validate.js';

/** A string field with named known values that still accepts any other string. */
const openEnum = <const T extends string>(values: readonly T[], description: string) =>
  Type.Unsafe<T | (string & {})>(
    Type.String({ description: `${description} Known values: ${values.join(', ')}.` }),
  );

/** Service types seen on ArcGIS Enterprise; a newer type is still a valid service. */
export const ServiceType = {
  MapServer: 'MapServer',
  FeatureServer: 'FeatureServer',
  GPServer: 'GPServer',
  GeometryServer: 'GeometryServer',
  ImageServer: 'ImageServer',
  TileServer: 'TileServer',
  GeocodeServer: 'GeocodeServer',
  VectorTileServer: 'VectorTileServer',
  SceneServer: 'SceneServer',
} as const;
/** A service type: one of {@link ServiceType} or any newer string. */
export type ServiceTypeValue = (typeof ServiceType)[keyof typeof ServiceType] | (string & {});

/** Service providers seen on ArcGIS Enterprise. */
export const ServiceProvider = {
  ArcObjects11: 'ArcObjects11',
  ArcObjects: 'ArcObjects',
  DMaps: 'DMaps',
  SDS: 'SDS',
} as const;
/** The configured state of a service. */
export const ConfiguredState = { STARTED: 'STARTED', STOPPED: 'STOPPED' } as const;
/** How isolated a service's instances are. */
export const IsolationLevel = { HIGH: 'HIGH', LOW: 'LOW' } as const;
/** How requests are spread over instances. */
export const LoadBalancing = { ROUND_ROBIN: 'ROUND_ROBIN' } as const;

/** A map of string values (`"maxRecordCount": "1000"`): how ArcGIS sends type properties. */
export const StringMapSchema = Type.Record(Type.String(), Type.String());

/** A service extension such as WMSServer or KmlServer. */
export const ServiceExtensionSchema = Type.Object(
  {
    typeName: Type.String(),
    capabilities: Type.Optional(Type.String()),
    /** The string `"true"`/`"false"` on real servers, occasionally a boolean: read it with {@link isExtensionEnabled}. */
    enabled: Type.Optional(Type.Union([Type.String(), Type.Boolean()])),
    maxUploadFileSize: Type.Optional(Type.Number()),
    allowedUploadFileTypes: Type.Optional(Type.String()),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);
/** A service extension. */
export type ServiceExtension = Static<typeof ServiceExtensionSchema>;

/** Portal items linked to a service. */
export const PortalPropertiesSchema = Type.Object(
  {
    isHosted: Type.Optional(Type.Boolean()),
    portalItems: Type.Optional(
      Type.Array(
        Type.Object({ itemID: Type.String(), type: Type.String() }, { additionalProperties: true }),
      ),
    ),
  },
  { additionalProperties: true },
);

/**
 * The service JSON, as in the `result.service` of an async `edit` job. Grouped as Esri's
 * reference describes: description, framework and type properties, extensions.
 * Only `serviceName` and `type` are required; unknown fields are kept.
 */
export const ServiceSchema = Type.Object(
  {
    // Description properties
    serviceName: Type.String(),
    type: openEnum(Object.values(ServiceType), 'The service type.'),
    description: Type.Optional(Type.String()),
    capabilities: Type.Optional(Type.String()),
    provider: Type.Optional(openEnum(Object.values(ServiceProvider), 'The service provider.')),
    id: Type.Optional(Type.String()),
    deploymentId: Type.Optional(Type.String()),
    clusterName: Type.Optional(Type.String()),
    private: Type.Optional(Type.Boolean()),
    folderName: Type.Optional(Type.String()),
    isDefault: Type.Optional(Type.Boolean()),
    // Framework properties
    minInstancesPerNode: Type.Optional(Type.Number()),
    maxInstancesPerNode: Type.Optional(Type.Number()),
    instancesPerContainer: Type.Optional(Type.Number()),
    maxWaitTime: Type.Optional(Type.Number()),
    maxStartupTime: Type.Optional(Type.Number()),
    maxIdleTime: Type.Optional(Type.Number()),
    maxUsageTime: Type.Optional(Type.Number()),
    recycleInterval: Type.Optional(Type.Number()),
    /** `HH:MM`. */
    recycleStartTime: Type.Optional(Type.String()),
    keepAliveInterval: Type.Optional(Type.Number()),
    loadBalancing: Type.Optional(openEnum(Object.values(LoadBalancing), 'Load balancing.')),
    isolationLevel: Type.Optional(openEnum(Object.values(IsolationLevel), 'Isolation level.')),
    configuredState: Type.Optional(
      openEnum(Object.values(ConfiguredState), 'The configured state.'),
    ),
    frameworkProperties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    maxUploadFileSize: Type.Optional(Type.Number()),
    allowedUploadFileTypes: Type.Optional(Type.String()),
    // Type properties
    properties: Type.Optional(StringMapSchema),
    jsonProperties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    // Extensions and the rest
    extensions: Type.Optional(Type.Array(ServiceExtensionSchema)),
    datasets: Type.Optional(Type.Array(Type.Unknown())),
    portalProperties: Type.Optional(PortalPropertiesSchema),
  },
  { additionalProperties: true },
);
/** The service JSON. */
export type Service = Static<typeof ServiceSchema>;

/** One entry of `GET <root>/services`. */
export const ServiceSummarySchema = Type.Object(
  {
    serviceName: Type.String(),
    type: openEnum(Object.values(ServiceType), 'The service type.'),
    folderName: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
/** One entry of the services list. */
export type ServiceSummary = Static<typeof ServiceSummarySchema>;

/** `GET <root>/services[/<folder>]`: the services of a folder and the names of its subfolders. */
export const ServiceListSchema = Type.Object(
  {
    folderName: Type.Optional(Type.String()),
    folders: Type.Optional(Type.Array(Type.String())),
    services: Type.Array(ServiceSummarySchema),
  },
  { additionalProperties: true },
);
/** The services list. */
export type ServiceList = Static<typeof ServiceListSchema>;

/** Whether an extension is enabled, whether the server sent `"true"`, `"TRUE"` or `true`. */
export function isExtensionEnabled(extension: Pick<ServiceExtension, 'enabled'>): boolean {
  const { enabled } = extension;
  return (
    enabled === true || (typeof enabled === 'string' && enabled.trim().toLowerCase() === 'true')
  );
}

const service = parser<Service>('service', ServiceSchema);
/** Validates service JSON. @throws {@link SchemaError} */
export const parseService = service.parse;
/** Validates service JSON without throwing. */
export const safeParseService = service.safeParse;

const serviceList = parser<ServiceList>('services', ServiceListSchema);
/** Validates a services list. @throws {@link SchemaError} */
export const parseServiceList = serviceList.parse;
/** Validates a services list without throwing. */
export const safeParseServiceList = serviceList.safeParse;
