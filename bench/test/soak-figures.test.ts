import { describe, expect, it } from 'vitest';
import { slope, tcpPorts } from '../src/soak-figures.js';

describe('the soak figures', () => {
  it('fits the least-squares slope, and has none for fewer than two points or one x', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(
      slope([
        [0, 10],
        [1, 12],
        [2, 10],
        [3, 12],
      ]),
    ).toBeCloseTo(0.4);
    expect(slope([[0, 1]])).toBeNaN();
    expect(
      slope([
        [1, 1],
        [1, 2],
      ]),
    ).toBeNaN();
  });

  it('reads socket inodes and their ports from a /proc/net/tcp table, IPv4 and IPv6', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:2223 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:D431 0100007F:2223 01 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 4713 1 0000000000000000 20 4 30 10 -1',
      '',
    ].join('\n');
    expect([...tcpPorts(table)]).toEqual([
      ['4711', { local: 0x2223, remote: 0 }],
      ['4712', { local: 0xd431, remote: 0x2223 }],
      ['4713', { local: 8080, remote: 50000 }],
    ]);
    expect(tcpPorts('header only\n').size).toBe(0);
  });
});
