/** The soak's arithmetic and its reading of `/proc`, apart from the run so tests can reach them. */

/** Least-squares slope of `y` over `x`. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Socket inode → local and remote port, from a `/proc/<pid>/net/tcp{,6}` table. */
export function tcpPorts(table: string): Map<string, { local: number; remote: number }> {
  const ports = new Map<string, { local: number; remote: number }>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [local, remote, inode] = [f[1], f[2], f[9]];
    if (!local || !remote || !inode) continue;
    const port = (address: string) => Number.parseInt(address.split(':')[1] ?? '', 16);
    ports.set(inode, { local: port(local), remote: port(remote) });
  }
  return ports;
}
