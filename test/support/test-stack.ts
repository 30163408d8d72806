/** `npm run test:stack -- up|down|status`: the tests' own stack (see env.ts), from the command line. */
import { main } from '../../src/cli';
import { applyTestStackEnv } from './env';

applyTestStackEnv();
void main(['stack', ...process.argv.slice(2)]).then((code) => process.exit(code));
