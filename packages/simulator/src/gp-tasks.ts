/**
 * The geoprocessing services the simulator publishes: a small catalogue of tasks with
 * parameters, their progress texts, and what they compute (a real buffer of the points they
 * are given; a hot-spot classification), so results are values, not placeholders.
 */

/** A parameter of a task, as the task resource lists it. */
export interface GpParameter {
  readonly name: string;
  readonly dataType:
    | 'GPFeatureRecordSetLayer'
    | 'GPLinearUnit'
    | 'GPBoolean'
    | 'GPDouble'
    | 'GPString';
  readonly displayName: string;
  readonly description: string;
  readonly direction: 'esriGPParameterDirectionInput' | 'esriGPParameterDirectionOutput';
  readonly parameterType:
    | 'esriGPParameterTypeRequired'
    | 'esriGPParameterTypeOptional'
    | 'esriGPParameterTypeDerived';
  readonly defaultValue?: unknown;
  readonly choiceList?: readonly string[];
}

/** A geoprocessing task. */
export interface GpTask {
  /** The folder of its service. */
  readonly folder: string;
  /** Its service's name. */
  readonly service: string;
  /** The task's name (it may hold spaces, as real task names do). */
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  /** `step` progressors report a percentage; `default` ones only a message. */
  readonly progressor: 'step' | 'default';
  readonly parameters: readonly GpParameter[];
  /** The progress messages, one per phase of execution. */
  readonly phases: readonly string[];
  /** The error a failed job of this task reports. */
  readonly failure: string;
  /** The outputs for (already checked) inputs. */
  run(inputs: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

interface Point {
  readonly x: number;
  readonly y: number;
}

const METERS: Readonly<Record<string, number>> = {
  esriMeters: 1,
  esriKilometers: 1000,
  esriFeet: 0.3048,
  esriMiles: 1609.344,
  esriNauticalMiles: 1852,
  esriYards: 0.9144,
};

const SAMPLE_POINTS = {
  geometryType: 'esriGeometryPoint',
  spatialReference: { wkid: 4326 },
  fields: [{ name: 'NAME', type: 'esriFieldTypeString', alias: 'Name', length: 64 }],
  features: [
    { geometry: { x: -117.1956, y: 34.0572 }, attributes: { NAME: 'Redlands' } },
    { geometry: { x: -117.2898, y: 34.1083 }, attributes: { NAME: 'San Bernardino' } },
    { geometry: { x: -117.3961, y: 33.9533 }, attributes: { NAME: 'Riverside' } },
  ],
};

function points(set: unknown): Array<{ point: Point; attributes: Record<string, unknown> }> {
  const features = (set as { features: Array<Record<string, unknown>> }).features;
  return features.map((f) => ({
    point: f.geometry as Point,
    attributes: (f.attributes as Record<string, unknown> | undefined) ?? {},
  }));
}

function wkidOf(set: unknown): number {
  const sr = (set as { spatialReference?: { wkid?: unknown } }).spatialReference;
  return typeof sr?.wkid === 'number' ? sr.wkid : 4326;
}

/** A 32-sided ring around `c` (closed, clockwise, as Esri rings are). */
function circle(c: Point, radius: number): number[][] {
  const ring: number[][] = [];
  for (let i = 0; i <= 32; i++) {
    const a = (-2 * Math.PI * (i % 32)) / 32;
    ring.push([
      Math.round((c.x + radius * Math.cos(a)) * 1e6) / 1e6,
      Math.round((c.y + radius * Math.sin(a)) * 1e6) / 1e6,
    ]);
  }
  return ring;
}

const buffer: GpTask = {
  folder: 'Tools',
  service: 'Buffer',
  name: 'BufferPoints',
  displayName: 'Buffer Points',
  description: 'Creates polygons around the input points at a given distance.',
  progressor: 'step',
  parameters: [
    {
      name: 'Input_Features',
      dataType: 'GPFeatureRecordSetLayer',
      displayName: 'Input Features',
      description: 'The points to buffer.',
      direction: 'esriGPParameterDirectionInput',
      parameterType: 'esriGPParameterTypeRequired',
      defaultValue: { geometryType: 'esriGeometryPoint', spatialReference: { wkid: 4326 } },
    },
    {
      name: 'Distance',
      dataType: 'GPLinearUnit',
      displayName: 'Distance',
      description: 'How far from each point the polygon reaches.',
      direction: 'esriGPParameterDirectionInput',
      parameterType: 'esriGPParameterTypeRequired',
      defaultValue: { distance: 1, units: 'esriMiles' },
    },
    {
      name: 'Dissolve',
      dataType: 'GPBoolean',
      displayName: 'Dissolve',
      description: 'Whether overlapping buffers become one feature.',
      direction: 'esriGPParameterDirectionInput',
      parameterType: 'esriGPParameterTypeOptional',
      defaultValue: false,
    },
    {
      name: 'Output_Features',
      dataType: 'GPFeatureRecordSetLayer',
      displayName: 'Output Features',
      description: 'The buffer polygons.',
      direction: 'esriGPParameterDirectionOutput',
      parameterType: 'esriGPParameterTypeRequired',
    },
  ],
  phases: ['Reading the input features', 'Buffering the features', 'Writing the output features'],
  failure: 'ERROR 999999: Something unexpected caused the tool to fail.',
  run(inputs) {
    const set = inputs.Input_Features;
    const wkid = wkidOf(set);
    const { distance, units } = inputs.Distance as { distance: number; units: string };
    const meters = distance * (METERS[units] ?? 1);
    const radius = wkid === 4326 || wkid === 4269 ? meters / 111_320 : meters;
    const rings = points(set).map(({ point }) => circle(point, radius));
    const features =
      inputs.Dissolve === true
        ? [{ geometry: { rings }, attributes: { FID: 1, BUFF_DIST: distance } }]
        : rings.map((ring, i) => ({
            geometry: { rings: [ring] },
            attributes: { FID: i + 1, BUFF_DIST: distance },
          }));
    return {
      Output_Features: {
        geometryType: 'esriGeometryPolygon',
        spatialReference: { wkid },
        fields: [
          { name: 'FID', type: 'esriFieldTypeOID', alias: 'FID' },
          { name: 'BUFF_DIST', type: 'esriFieldTypeDouble', alias: 'BUFF_DIST' },
        ],
        features,
        exceededTransferLimit: false,
      },
    };
  },
};

const hotSpots: GpTask = {
  folder: 'Tools',
  service: 'Hotspots',
  name: 'Find Hot Spots',
  displayName: 'Find Hot Spots',
  description: 'Finds statistically significant clusters of high and low values.',
  progressor: 'default',
  parameters: [
    {
      name: 'Input_Points',
      dataType: 'GPFeatureRecordSetLayer',
      displayName: 'Input Points',
      description: 'The incidents to analyse.',
      direction: 'esriGPParameterDirectionInput',
      parameterType: 'esriGPParameterTypeRequired',
      defaultValue: { geometryType: 'esriGeometryPoint', spatialReference: { wkid: 4326 } },
    },
    {
      name: 'Cell_Size',
      dataType: 'GPDouble',
      displayName: 'Cell Size',
      description: 'The size of the aggregation cells, in meters.',
      direction: 'esriGPParameterDirectionInput',
      parameterType: 'esriGPParameterTypeOptional',
      defaultValue: 1000,
    },
    {
      name: 'Hot_Spots',
      dataType: 'GPFeatureRecordSetLayer',
      displayName: 'Hot Spots',
      description: 'The input points with their confidence bin.',
      direction: 'esriGPParameterDirectionOutput',
      parameterType: 'esriGPParameterTypeRequired',
    },
    {
      name: 'Summary',
      dataType: 'GPString',
      displayName: 'Summary',
      description: 'How many hot and cold spots were found.',
      direction: 'esriGPParameterDirectionOutput',
      parameterType: 'esriGPParameterTypeDerived',
    },
  ],
  phases: [
    'Aggregating the incidents',
    'Computing the Getis-Ord Gi* statistic',
    'Correcting for multiple testing',
  ],
  failure: 'ERROR 110149: Not enough incidents to compute a hot spot analysis.',
  run(inputs) {
    const set = inputs.Input_Points;
    const rows = points(set);
    const meanY = rows.reduce((sum, r) => sum + r.point.y, 0) / Math.max(1, rows.length);
    const bins = rows.map(({ point }) => (point.y > meanY ? 3 : point.y < meanY ? -3 : 0));
    return {
      Hot_Spots: {
        geometryType: 'esriGeometryPoint',
        spatialReference: { wkid: wkidOf(set) },
        fields: [
          { name: 'FID', type: 'esriFieldTypeOID', alias: 'FID' },
          { name: 'Gi_Bin', type: 'esriFieldTypeInteger', alias: 'Gi_Bin' },
        ],
        features: rows.map(({ point }, i) => ({
          geometry: { x: point.x, y: point.y },
          attributes: { FID: i + 1, Gi_Bin: bins[i] },
        })),
        exceededTransferLimit: false,
      },
      Summary: `${rows.length} incidents analysed: ${bins.filter((b) => b > 0).length} hot spots, ${bins.filter((b) => b < 0).length} cold spots.`,
    };
  },
};

/** Every published task. */
export const GP_TASKS: readonly GpTask[] = Object.freeze([buffer, hotSpots]);

/** `<folder>/<service>/<task>`, the key a control spec names a task by. */
export function taskKey(task: Pick<GpTask, 'folder' | 'service' | 'name'>): string {
  return `${task.folder}/${task.service}/${task.name}`;
}

/** The task at a folder, service and name, if published. */
export function findTask(folder: string, service: string, name: string): GpTask | undefined {
  return GP_TASKS.find((t) => t.folder === folder && t.service === service && t.name === name);
}

/** The default inputs of a task, for jobs created without parameters. */
export function defaultInputs(task: GpTask): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of task.parameters) {
    if (p.direction !== 'esriGPParameterDirectionInput') continue;
    out[p.name] =
      p.dataType === 'GPFeatureRecordSetLayer' ? structuredClone(SAMPLE_POINTS) : p.defaultValue;
  }
  return out;
}

const MAX_FEATURES = 10_000;

/** An input read: its value, or why it is not valid. */
type Read = { readonly value: unknown } | { readonly problem: string };

/** Parses a form value of a JSON-typed parameter. */
function fromForm(p: GpParameter, raw: unknown): Read {
  if (typeof raw !== 'string' || p.dataType === 'GPString') return { value: raw };
  if (p.dataType === 'GPBoolean')
    return raw === 'true' || raw === 'false'
      ? { value: raw === 'true' }
      : { problem: `'${p.name}' must be true or false.` };
  if (p.dataType === 'GPDouble') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n)
      ? { value: n }
      : { problem: `'${p.name}' must be a number.` };
  }
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { problem: `'${p.name}' is not valid JSON.` };
  }
}

function isPoint(f: unknown): boolean {
  const g = (f as { geometry?: { x?: unknown; y?: unknown } } | null)?.geometry;
  return (
    typeof g?.x === 'number' &&
    Number.isFinite(g.x) &&
    typeof g.y === 'number' &&
    Number.isFinite(g.y)
  );
}

/**
 * Reads one input parameter from its form value (JSON text for feature sets and linear
 * units, `true`/`false`, a number) or from a value already parsed.
 */
export function readInput(p: GpParameter, raw: unknown): Read {
  const read = fromForm(p, raw);
  if ('problem' in read) return read;
  const value = read.value;
  const no = (problem: string): Read => ({ problem });
  switch (p.dataType) {
    case 'GPFeatureRecordSetLayer': {
      const features = (value as { features?: unknown } | null)?.features;
      if (!Array.isArray(features) || features.length === 0 || features.length > MAX_FEATURES)
        return no(`'${p.name}' needs a feature set with 1–${MAX_FEATURES} point features.`);
      return features.every(isPoint)
        ? { value }
        : no(`'${p.name}' needs point geometries with numeric x and y.`);
    }
    case 'GPLinearUnit': {
      const v = value as { distance?: unknown; units?: unknown } | null;
      return typeof v?.distance === 'number' &&
        Number.isFinite(v.distance) &&
        v.distance > 0 &&
        typeof v.units === 'string' &&
        Object.hasOwn(METERS, v.units)
        ? { value: { distance: v.distance, units: v.units } }
        : no(
            `'${p.name}' needs {"distance": a positive number, "units": one of ${Object.keys(METERS).join(', ')}}.`,
          );
    }
    case 'GPBoolean':
      return typeof value === 'boolean' ? { value } : no(`'${p.name}' must be true or false.`);
    case 'GPDouble':
      return typeof value === 'number' && Number.isFinite(value)
        ? { value }
        : no(`'${p.name}' must be a number.`);
    case 'GPString':
      return typeof value === 'string' && value.length <= 10_000
        ? { value }
        : no(`'${p.name}' must be a string of at most 10,000 characters.`);
  }
}

/**
 * Reads a task's inputs from form parameters (or a control spec's object), with defaults
 * for optional ones; a string names the first problem.
 */
export function readInputs(
  task: GpTask,
  get: (name: string) => unknown,
): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const p of task.parameters) {
    if (p.direction !== 'esriGPParameterDirectionInput') continue;
    const raw = get(p.name);
    if (raw === undefined || raw === null || raw === '') {
      if (p.parameterType === 'esriGPParameterTypeRequired') return `'${p.name}' is required.`;
      out[p.name] = p.defaultValue;
      continue;
    }
    const read = readInput(p, raw);
    if ('problem' in read) return read.problem;
    out[p.name] = read.value;
  }
  return out;
}
