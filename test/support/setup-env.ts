import { applyTestStackEnv } from './env';

applyTestStackEnv();
