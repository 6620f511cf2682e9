import { describe, expect, it } from 'vitest';
import { fieldLabel, formatField } from '../../web/src/format/format-field';

/** Plan and rollout fields the console shows by name: the unit goes with the value, once. */
describe('console field labels', () => {
  it('drops the unit from a label whose value shows it', () => {
    expect(`${fieldLabel('expectedSeconds')}: ${formatField('expectedSeconds', 90)}`).toBe(
      'Expected: 1 min 30 s',
    );
    expect(fieldLabel('bandwidthBytesPerSecond')).toBe('Bandwidth');
    expect(fieldLabel('deadlineSeconds')).toBe('Deadline');
    expect(fieldLabel('packageBytes')).toBe('Package');
  });

  it('keeps labels that name no unit, and a bare unit name', () => {
    expect(fieldLabel('maxConcurrentDownloads')).toBe('Max concurrent downloads');
    expect(fieldLabel('seconds')).toBe('Seconds');
  });
});
