/**
 * The service JSON's known values (its open enums: a newer value is still valid) and the
 * reader of an extension's `enabled` flag.
 */

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

/**
 * Whether an extension (a `ServiceExtension`, or anything with its `enabled`) is enabled,
 * whether the server sent `"true"`, `"TRUE"` or `true`. Typed by shape, so this module and
 * the schemas that import its constants do not import each other.
 */
export function isExtensionEnabled(extension: { readonly enabled?: unknown }): boolean {
  const { enabled } = extension;
  return (
    enabled === true || (typeof enabled === 'string' && enabled.trim().toLowerCase() === 'true')
  );
}
