/** Every workflow the gridflow worker runs (the worker bundles this file). */
export { PipelineWorkflow } from './pipeline';
export { VerifyPipelineWorkflow } from './verify';
export { AlertsWorkflow } from './alerts';
