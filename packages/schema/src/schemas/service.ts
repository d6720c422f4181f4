/**
 * The service JSON's TypeBox schemas and types. Every schema is built by calls marked pure,
 * and nothing on the parse path imports this module.
 */
import Type, { type Static } from 'typebox';
import {
  ConfiguredState,
  IsolationLevel,
  LoadBalancing,
  ServiceProvider,
  ServiceType,
} from '../service.js';
import { maybe } from './shapes.js';

/** A string field with named known values that still accepts any other string. */
const openEnum = <const T extends string>(
  known: Readonly<Record<string, T>>,
  description: string,
) =>
  Type.Unsafe<T | (string & {})>(
    Type.String({
      description: `${description} Known values: ${Object.values(known).join(', ')}.`,
    }),
  );

/**
 * A service's type properties: documented as strings (`"maxRecordCount": "1000"`), but
 * createService samples post numbers and booleans, which a server may echo; all three are
 * read as sent, and `null` too.
 */
export const PropertyMapSchema = /* @__PURE__ */ Type.Unsafe<
  Record<string, string | number | boolean | null>
>({
  type: 'object',
  // `additionalProperties`, not a `^.*$` pattern: a validator then tests no key against a
  // regular expression.
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
});

/** A map of values of any type (`frameworkProperties`, `jsonProperties`…). */
const AnyMapSchema = /* @__PURE__ */ Type.Unsafe<Record<string, unknown>>({ type: 'object' });

/** A service extension such as WMSServer or KmlServer. */
export const ServiceExtensionSchema = /* @__PURE__ */ Type.Object(
  {
    typeName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    capabilities: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    /** The string `"true"`/`"false"` on real servers, occasionally a boolean: read it with {@link @jobwatch/schema!isExtensionEnabled}. */
    enabled: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Union([/* @__PURE__ */ Type.String(), /* @__PURE__ */ Type.Boolean()]),
    ),
    maxUploadFileSize: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    allowedUploadFileTypes: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    properties: /* @__PURE__ */ maybe(AnyMapSchema),
  },
  { additionalProperties: true },
);
/** A service extension. */
export type ServiceExtension = Static<typeof ServiceExtensionSchema>;

/** Portal items linked to a service. */
export const PortalPropertiesSchema = /* @__PURE__ */ Type.Object(
  {
    isHosted: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Boolean()),
    portalItems: /* @__PURE__ */ maybe(
      /* @__PURE__ */ Type.Array(
        /* @__PURE__ */ Type.Object(
          {
            itemID: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
            type: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
          },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  { additionalProperties: true },
);

/**
 * The service JSON, as in the `result.service` of an async `edit` job. Grouped as Esri's
 * reference describes: description, framework and type properties, extensions. Every
 * field may be missing or `null`; unknown fields are kept.
 */
export const ServiceSchema = /* @__PURE__ */ Type.Object(
  {
    // Description properties
    serviceName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    type: /* @__PURE__ */ maybe(/* @__PURE__ */ openEnum(ServiceType, 'The service type.')),
    description: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    capabilities: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    provider: /* @__PURE__ */ maybe(
      /* @__PURE__ */ openEnum(ServiceProvider, 'The service provider.'),
    ),
    id: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    deploymentId: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    clusterName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    private: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Boolean()),
    folderName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    isDefault: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Boolean()),
    // Framework properties
    minInstancesPerNode: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    maxInstancesPerNode: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    instancesPerContainer: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    maxWaitTime: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    maxStartupTime: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    maxIdleTime: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    maxUsageTime: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    recycleInterval: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    /** `HH:MM`. */
    recycleStartTime: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    keepAliveInterval: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    loadBalancing: /* @__PURE__ */ maybe(
      /* @__PURE__ */ openEnum(LoadBalancing, 'Load balancing.'),
    ),
    isolationLevel: /* @__PURE__ */ maybe(
      /* @__PURE__ */ openEnum(IsolationLevel, 'Isolation level.'),
    ),
    configuredState: /* @__PURE__ */ maybe(
      /* @__PURE__ */ openEnum(ConfiguredState, 'The configured state.'),
    ),
    frameworkProperties: /* @__PURE__ */ maybe(AnyMapSchema),
    maxUploadFileSize: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Number()),
    allowedUploadFileTypes: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    // Type properties
    properties: /* @__PURE__ */ maybe(PropertyMapSchema),
    jsonProperties: /* @__PURE__ */ maybe(AnyMapSchema),
    // Extensions and the rest
    extensions: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Array(ServiceExtensionSchema)),
    datasets: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.Unknown())),
    portalProperties: /* @__PURE__ */ maybe(PortalPropertiesSchema),
  },
  { additionalProperties: true },
);
/** The service JSON. */
export type Service = Static<typeof ServiceSchema>;

/** One entry of `GET <root>/services`. */
export const ServiceSummarySchema = /* @__PURE__ */ Type.Object(
  {
    serviceName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    type: /* @__PURE__ */ maybe(/* @__PURE__ */ openEnum(ServiceType, 'The service type.')),
    folderName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    description: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
  },
  { additionalProperties: true },
);
/** One entry of the services list. */
export type ServiceSummary = Static<typeof ServiceSummarySchema>;

/** `GET <root>/services[/<folder>]`: the services of a folder and the names of its subfolders. */
export const ServiceListSchema = /* @__PURE__ */ Type.Object(
  {
    folderName: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.String()),
    folders: /* @__PURE__ */ maybe(/* @__PURE__ */ Type.Array(/* @__PURE__ */ Type.String())),
    services: /* @__PURE__ */ Type.Array(ServiceSummarySchema),
  },
  { additionalProperties: true },
);
/** The services list. */
export type ServiceList = Static<typeof ServiceListSchema>;
