import { describe, expect, it } from 'vitest';
import { compareVersions, isEarlierThan, parseVersion } from '../../../plan/version.js';

describe('compareVersions: numeric, part by part', () => {
  it.each([
    ['8.3.1000.0', '8.3.253.0', 1], // numbers, not text: 1000 > 253
    ['8.3.253.0', '8.3.1000.0', -1],
    ['8.2', '8.2.0.0', 0], // missing parts are zeros
    ['8.2.0.0', '8.2', 0],
    ['8.3', '8.3.253.0', -1],
    ['8.3.253.0', '8.3.253.0', 0],
    ['10.0.0.0', '8.3.253.0', 1], // 10 > 8 although "1" < "8"
    ['8.10.0.0', '8.9.0.0', 1],
    ['8.2.999.0', '8.3', -1],
    ['10.4.0.0', '10.4.0.1', -1],
    ['08.3.0.0', '8.3', 0], // a leading zero does not change the number
    ['15.0.2000.5', '16.0.1000.6', -1], // SQL Server versions too
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('refuses text that is not a version, naming it', () => {
    expect(() => compareVersions('8.x', '8.3')).toThrow('"8.x" is not a dotted numeric version such as 8.3.253.0');
  });
});

describe('parseVersion', () => {
  it.each([
    ['8.3.253.0', [8, 3, 253, 0]],
    ['15.0.2000.5', [15, 0, 2000, 5]],
    ['10', [10]],
    ['8.3.', undefined],
    ['v8.3', undefined],
    ['8..3', undefined],
    ['', undefined],
    [' 8.3', undefined],
  ] as const)('%j → %j', (text, parts) => {
    expect(parseVersion(text)).toEqual(parts);
  });
});

describe('isEarlierThan: the runbook thresholds', () => {
  it.each([
    ['8.2.0.0', '8.3.253.0', true],
    ['8.3.252.9', '8.3.253.0', true],
    ['8.3.253.0', '8.3.253.0', false], // "earlier than 8.3.253.0": the threshold itself does not convert
    ['8.3.1000.0', '8.3.253.0', false],
    ['8.2.999.0', '8.3', true],
    ['8.3.0.0', '8.3', false],
  ] as const)('%s earlier than %s: %s', (version, threshold, expected) => {
    expect(isEarlierThan(version, threshold)).toBe(expected);
  });
});
