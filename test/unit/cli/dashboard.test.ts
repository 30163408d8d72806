import { bind, parseCommandLine } from '../../../src/cli/args';
import { DASHBOARD_COMMAND, dashboardArgs, detachedCommand } from '../../../src/cli/dashboard';
import { loadConfig } from '../../../src/config';

/** The command line as `gridflow dashboard` reads it (parseCommandLine, bind), then what it serves. */
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const call = bind(DASHBOARD_COMMAND, parseCommandLine(DASHBOARD_COMMAND, ['dashboard', ...argv]));
  if (call.kind !== 'run') throw new Error('help, not a run');
  return dashboardArgs(call.values, loadConfig(env));
};

describe('gridflow dashboard options', () => {
  test('defaults: 127.0.0.1, the stack\'s dashboard port (shifted), pipeline sgcc', () => {
    expect(parse([])).toEqual({ host: '127.0.0.1', port: 8090, pipelines: ['sgcc'] });
    expect(parse([], { GRIDFLOW_PORT_OFFSET: '30000' }).port).toBe(38090);
    expect(parse([], { GRIDFLOW_DASHBOARD_PORT: '9999' }).port).toBe(9999);
  });

  test('--host, --port and --name win', () => {
    expect(parse(['--host', '0.0.0.0', '--port', '8100', '--name', 'sgcc,east'], { GRIDFLOW_DASHBOARD_PORT: '9999' })).toEqual({ host: '0.0.0.0', port: 8100, pipelines: ['sgcc', 'east'] });
  });

  test.each([
    [['--port', '0'], /--port must be a port number 1\.\.65535, got "0"/],
    [['--port', '80a'], /--port must be a port number/],
    [['--host', 'a b'], /--host must be a host name or address/],
    [['--name', 'Bad-Name'], /--name: "Bad-Name" is not a pipeline name/],
  ])('%j is a usage error naming the option', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });

  test('the detached command carries every option, so a supervisor restart serves the same', () => {
    expect(detachedCommand({ host: '127.0.0.1', port: 8090, pipelines: ['sgcc', 'east'] }).slice(1)).toEqual(['dashboard', '--host', '127.0.0.1', '--port', '8090', '--name', 'sgcc,east']);
  });

  test('the detached command parses back to what it was made from (the supervisor restarts with it)', () => {
    const a = { host: '0.0.0.0', port: 8100, pipelines: ['sgcc', 'east'] };
    expect(parse(detachedCommand(a).slice(2))).toEqual(a);
  });
});
