/** The spec's optional `alerts` field: names only, clear errors, old specs unchanged. */
import { parseSpec } from '../../../src/core/spec';
import { testSpec } from '../../workflows/doubles';

const withAlerts = (alerts: unknown) => testSpec({ alerts });

describe('PipelineSpec alerts', () => {
  test('absent: the spec parses exactly as before (no alerts key appears)', () => {
    expect('alerts' in parseSpec(testSpec())).toBe(false);
  });

  test('defaults: every 30s, every rule on, no alarm-count threshold, generic format', () => {
    const spec = parseSpec(withAlerts({ webhooks: [{ name: 'ops' }] }));
    expect(spec.alerts).toEqual({ webhooks: [{ name: 'ops', format: 'generic' }], every: '30s', overload: true, equipmentAlarm: true, pipeline: true });
  });

  test('the example from the docs parses', () => {
    const spec = parseSpec(withAlerts({ webhooks: [{ name: 'ops', format: 'dingtalk' }, { name: 'oncall', format: 'feishu' }, { name: 'wx', format: 'wecom' }], alarmCountAbove: 10, every: '1min' }));
    expect(spec.alerts?.alarmCountAbove).toBe(10);
    expect(spec.alerts?.webhooks.map((w) => w.format)).toEqual(['dingtalk', 'feishu', 'wecom']);
  });

  test.each([
    [{ webhooks: [{ name: 'https://oapi.dingtalk.com/robot/send?access_token=abc' }] }, /alerts\.webhooks\.0\.name: "https:\/\/oapi\.dingtalk\.com\/robot\/s.*" is an address; name a webhook configured on the worker/],
    [{ webhooks: [{ name: 'ops', url: 'http://x' }] }, /alerts\.webhooks\.0: unknown field "url"/],
    [{ webhooks: [{ name: 'ops', format: 'slack' }] }, /alerts\.webhooks\.0\.format: Invalid enum value\. Expected 'generic' \| 'dingtalk' \| 'wecom' \| 'feishu'/],
    [{ webhooks: [{ name: 'Ops' }] }, /alerts\.webhooks\.0\.name: a webhook name: a lower-case identifier/],
    [{ webhooks: [] }, /alerts\.webhooks: name at least one webhook/],
    [{ webhooks: [{ name: 'ops' }, { name: 'ops', format: 'wecom' }] }, /alerts\.webhooks\.1\.name: webhook ops is named twice/],
    [{ webhooks: [{ name: 'ops' }], every: '500ms' }, /alerts\.every: between 1s and 1h/],
    [{ webhooks: [{ name: 'ops' }], alarmCountAbove: -1 }, /alerts\.alarmCountAbove: Number must be greater than or equal to 0/],
    [{ webhooks: [{ name: 'ops' }], secret: 'x' }, /alerts: unknown field "secret"/],
  ])('refused with the field named: %j', (alerts, message) => {
    expect(() => parseSpec(withAlerts(alerts))).toThrow(message);
  });
});
