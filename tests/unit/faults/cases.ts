/** The failure modes of the deploy (#23 Done when), each with the end it must come to. */
import { connectionReset, expiredToken, Fault, TASK_NEW, TASK_OLD, throttling } from './world';

const MIN = 60000;
const PING = 'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.';
const healthy = { Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' as const } };
const primary = (taskDefinition: string, rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED', extra = {}) => ({ id: `ecs-svc/${taskDefinition.slice(-1)}`, status: 'PRIMARY', taskDefinition, rolloutState, runningCount: 1, desiredCount: 1, ...extra });

export const FAULTS: Fault[] = [
  // ---- the stack ------------------------------------------------------------------------------------
  {
    name: 'update rolled back: the endpoint failed its ping health check (UPDATE_ROLLBACK_COMPLETE)', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    stack: [[0, 'UPDATE_IN_PROGRESS'], [20 * MIN, 'UPDATE_ROLLBACK_IN_PROGRESS'], [25 * MIN, 'UPDATE_ROLLBACK_COMPLETE']],
    resourceFailure: { id: 'Endpoint', type: 'AWS::SageMaker::Endpoint', status: 'UPDATE_FAILED', reason: PING },
    expect: { reason: /did not pass the ping health check/, hint: /previous version keeps serving/ }, budgetMs: 25 * MIN + 10000,
  },
  {
    name: 'first create rolled back (ROLLBACK_COMPLETE)', kind: 'sagemaker',
    stack: [[0, 'CREATE_IN_PROGRESS'], [5 * MIN, 'ROLLBACK_IN_PROGRESS'], [6 * MIN, 'ROLLBACK_COMPLETE']],
    resourceFailure: { id: 'Model', type: 'AWS::SageMaker::Model', status: 'CREATE_FAILED', reason: 'Could not find model data at s3://model-deploy-111111111111-us-east-1/models/x/.' },
    expect: { reason: /Could not find model data/, hint: /next deploy deletes the failed stack/ }, budgetMs: 6 * MIN + 10000,
  },
  {
    name: 'rollback failed too (UPDATE_ROLLBACK_FAILED)', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE',
    stack: [[0, 'UPDATE_IN_PROGRESS'], [3 * MIN, 'UPDATE_ROLLBACK_IN_PROGRESS'], [4 * MIN, 'UPDATE_ROLLBACK_FAILED']],
    resourceFailure: { id: 'Service', type: 'AWS::ECS::Service', status: 'UPDATE_FAILED', reason: 'ECS Deployment Circuit Breaker was triggered' },
    expect: { reason: /Circuit Breaker was triggered/, hint: /continue-update-rollback/ }, budgetMs: 4 * MIN + 10000,
  },
  { name: 'stack left in ROLLBACK_FAILED', kind: 'sagemaker', initialStatus: 'ROLLBACK_FAILED', expect: { reason: /ROLLBACK_FAILED: it cannot be updated/, hint: /FORCE_DELETE_STACK/ }, budgetMs: 0 },
  { name: 'stack left in DELETE_FAILED', kind: 'ecs', initialStatus: 'DELETE_FAILED', expect: { reason: /DELETE_FAILED: it cannot be updated/, hint: /delete-stack/ }, budgetMs: 0 },
  { name: 'stack left in UPDATE_ROLLBACK_FAILED', kind: 'ec2', initialStatus: 'UPDATE_ROLLBACK_FAILED', expect: { reason: /UPDATE_ROLLBACK_FAILED/, hint: /continue-update-rollback/ }, budgetMs: 0 },
  { name: "a cancelled deploy's rollback still running (busy stack)", kind: 'sagemaker', initialStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', expect: { reason: /another operation is running/, hint: /Wait for it to finish/ }, budgetMs: 0 },
  {
    name: 'stack stuck UPDATE_IN_PROGRESS past the deadline', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', timeoutMinutes: 30,
    stack: [[0, 'UPDATE_IN_PROGRESS']], expect: { reason: /Timed out after 30 minutes waiting for stack/ },
  },
  { name: 'change set rejected (template error)', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', changeSet: { failed: 'Template error: instance of Fn::GetAtt references undefined resource Foo' }, expect: { reason: /undefined resource Foo/, hint: /nothing was changed/ }, budgetMs: MIN },
  { name: 'change set stuck in CREATE_PENDING', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', changeSet: 'stuck', timeoutMinutes: 20, expect: { reason: /Timed out after 20 minutes/ } },
  {
    name: 'ACM certificate pending validation: the listener fails', kind: 'ecs',
    stack: [[0, 'CREATE_IN_PROGRESS'], [2 * MIN, 'ROLLBACK_IN_PROGRESS'], [3 * MIN, 'ROLLBACK_COMPLETE']],
    resourceFailure: { id: 'HttpsListener', type: 'AWS::ElasticLoadBalancingV2::Listener', status: 'CREATE_FAILED', reason: "Certificate 'arn:aws:acm:us-east-1:111111111111:certificate/abc' not found (Service: ElasticLoadBalancingV2, Status Code: 400, Error Code: CertificateNotFound)" },
    expect: { reason: /CertificateNotFound/ }, budgetMs: 3 * MIN + 10000,
  },
  // ---- the SageMaker endpoint -----------------------------------------------------------------------
  {
    name: 'endpoint stuck in Creating after the stack', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', timeoutMinutes: 45,
    stack: [[0, 'UPDATE_IN_PROGRESS'], [MIN, 'UPDATE_COMPLETE']], endpoint: [[0, { EndpointStatus: 'Creating' }]], expect: { reason: /Timed out after \d+ minutes waiting for endpoint acme-llm-qwen-chat-dev/ },
  },
  {
    name: 'endpoint Failed with a FailureReason', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    endpoint: [[0, { EndpointStatus: 'Updating' }], [12 * MIN, { EndpointStatus: 'Failed', FailureReason: PING }]],
    expect: { reason: /is Failed: .*ping health check/, hint: /startupTimeoutSeconds/ }, budgetMs: 12 * MIN + 10000,
  },
  {
    name: 'blue/green auto-rollback: InService on the old config', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    endpoint: [[0, { EndpointStatus: 'Updating' }], [8 * MIN, { EndpointStatus: 'RollingBack' }], [9 * MIN, { EndpointStatus: 'InService', EndpointConfigName: 'cfg-old', FailureReason: 'Alarm acme-llm-5xx fired during baking' }]],
    expect: { reason: /InService on cfg-old, not on the new config cfg-new: SageMaker rolled the update back/ }, budgetMs: 9 * MIN + 10000,
  },
  {
    name: 'endpoint UpdateRollbackFailed', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    endpoint: [[0, { EndpointStatus: 'UpdateRollbackFailed', FailureReason: 'Rollback failed: capacity' }]], expect: { reason: /UpdateRollbackFailed: Rollback failed/ }, budgetMs: 2 * MIN,
  },
  { name: 'smoke test: the model errors', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', smoke: { error: 'ModelError', message: 'Received server error (500) from primary: CUDA out of memory' }, expect: { reason: /Smoke test.*CUDA out of memory/ }, budgetMs: 2 * MIN },
  { name: 'healthy endpoint: green, and only because it runs the new config', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', expect: { ok: true }, budgetMs: 2 * MIN },
  // ---- ECS ------------------------------------------------------------------------------------------
  {
    name: 'ECS circuit breaker rolled back to the previous task definition', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE',
    ecs: [[0, [primary(TASK_NEW, 'IN_PROGRESS')]], [6 * MIN, [primary(TASK_OLD, 'COMPLETED'), { ...primary(TASK_NEW, 'FAILED', { rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' }), status: 'ACTIVE' }]]],
    expect: { reason: /runs .*svc:7, not .*svc:8.*circuit breaker: tasks failed to start/, hint: /previous version keeps serving/ }, budgetMs: 6 * MIN + 10000,
  },
  { name: 'ECS rollout FAILED on the primary deployment', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', ecs: [[0, [primary(TASK_NEW, 'FAILED', { rolloutStateReason: 'tasks failed to start' })]]], expect: { reason: /rollout FAILED: tasks failed to start/ }, budgetMs: 2 * MIN },
  { name: 'ECS rollout stuck IN_PROGRESS', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', timeoutMinutes: 40, ecs: [[0, [primary(TASK_NEW, 'IN_PROGRESS')]]], expect: { reason: /Timed out after \d+ minutes waiting for ECS service svc/ } },
  { name: 'ECS rollout completes after a while: green', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', ecs: [[0, [primary(TASK_NEW, 'IN_PROGRESS')]], [4 * MIN, [primary(TASK_NEW, 'COMPLETED')]]], expect: { ok: true }, budgetMs: 4 * MIN + 10000 },
  // ---- EC2 ------------------------------------------------------------------------------------------
  {
    name: 'EC2 instances unhealthy behind the target group', kind: 'ec2', initialStatus: 'UPDATE_COMPLETE', timeoutMinutes: 30,
    targets: [[0, [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [502]' } }]]],
    expect: { reason: /i-1:8080 unhealthy \(Target.ResponseCodeMismatch: Health checks failed with these codes: \[502\]\)/ },
  },
  { name: 'EC2: no instance registered', kind: 'ec2', initialStatus: 'UPDATE_COMPLETE', timeoutMinutes: 20, targets: [[0, []]], expect: { reason: /no target is registered/ } },
  { name: 'EC2 targets initial, then healthy: green', kind: 'ec2', initialStatus: 'UPDATE_COMPLETE', targets: [[0, [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'initial', Reason: 'Elb.InitialHealthChecking' } }]], [3 * MIN, [healthy]]], expect: { ok: true }, budgetMs: 3 * MIN + 10000 },
  // ---- the network, throttling and credentials --------------------------------------------------------
  { name: 'throttling storm on stack events (30 in a row)', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', failing: [{ command: 'DescribeStackEvents', times: 30, error: throttling }], expect: { ok: true }, budgetMs: 10 * MIN },
  { name: 'throttling storm on DescribeEndpoint', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', failing: [{ command: 'DescribeEndpoint', times: 15, error: throttling }], expect: { ok: true }, budgetMs: 10 * MIN },
  { name: 'connection resets mid-poll (stack events)', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', failing: [{ command: 'DescribeStackEvents', times: 5, error: connectionReset }], expect: { ok: true }, budgetMs: 5 * MIN },
  { name: 'connection resets mid-poll (ECS service)', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', failing: [{ command: 'DescribeServices', times: 4, error: connectionReset }], expect: { ok: true }, budgetMs: 5 * MIN },
  {
    name: 'credentials expire mid-wait', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    failing: [{ command: 'DescribeEndpoint', times: 1000, error: expiredToken }], expect: { reason: /expired/, hint: /role-duration-seconds/ }, budgetMs: 3 * MIN,
  },
  {
    name: 'OIDC session expires mid-wait (50 min update, 20 min sessions): renewed with a new token, green', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    oidc: { sessionMinutes: 20 }, stack: [[0, 'UPDATE_IN_PROGRESS'], [50 * MIN, 'UPDATE_COMPLETE']], expect: { ok: true }, budgetMs: 52 * MIN,
  },
  {
    name: 'OIDC session renewal refused mid-wait: red with the reason', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE',
    oidc: { sessionMinutes: 20, renewalFailsFrom: 2 }, stack: [[0, 'UPDATE_IN_PROGRESS'], [50 * MIN, 'UPDATE_COMPLETE']],
    expect: { reason: /Could not renew the AWS session of arn:aws:iam::111111111111:role\/model-deploy-dev while waiting: .*Not authorized/, hint: /trust policy/ }, budgetMs: 20 * MIN,
  },
  // ---- no-wait mode and resume (#23.7): the same waits and checks, later --------------------------------
  { name: 'no-wait: returns once the change set executes', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', wait: false, stack: [[0, 'UPDATE_IN_PROGRESS']], expect: { ok: true }, budgetMs: MIN },
  { name: 'resume: an update left running is followed to green', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', mode: 'resume', expect: { ok: true }, budgetMs: 2 * MIN },
  {
    name: 'resume: an update that rolled back unwatched is red with the reason', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', mode: 'resume',
    stack: [[0, 'UPDATE_IN_PROGRESS'], [20 * MIN, 'UPDATE_ROLLBACK_IN_PROGRESS'], [25 * MIN, 'UPDATE_ROLLBACK_COMPLETE']],
    resourceFailure: { id: 'Endpoint', type: 'AWS::SageMaker::Endpoint', status: 'UPDATE_FAILED', reason: PING },
    expect: { reason: /did not pass the ping health check/, hint: /previous version keeps serving/ }, budgetMs: 25 * MIN + 10000,
  },
  {
    name: 'resume: blue/green auto-rollback after COMPLETE is red', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', mode: 'resume',
    endpoint: [[0, { EndpointStatus: 'Updating' }], [8 * MIN, { EndpointStatus: 'RollingBack' }], [9 * MIN, { EndpointStatus: 'InService', EndpointConfigName: 'cfg-old', FailureReason: 'Alarm acme-llm-5xx fired during baking' }]],
    expect: { reason: /InService on cfg-old, not on the new config cfg-new: SageMaker rolled the update back/ }, budgetMs: 9 * MIN + 10000,
  },
  { name: 'resume: stuck past the deadline is cancelled', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', mode: 'resume', timeoutMinutes: 20, stack: [[0, 'UPDATE_IN_PROGRESS']], expect: { reason: /Timed out after 20 minutes waiting for stack/ } },
  { name: 'resume: no stack to resume', kind: 'ec2', mode: 'resume', expect: { reason: /There is no stack acme-llm-code-assistant-dev in us-east-1 to resume/, hint: /wait: false/ }, budgetMs: 0 },
  // ---- fatal start-up logs: red within a look or two of the line, not at the health-check timeout -------
  ...(
    [
      ['CUDA out of memory', 'sagemaker', ['INFO Loading weights took 61.2 GB', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 22.07 GiB'], /does not fit in GPU memory[\s\S]*CUDA out of memory/, /more GPU memory/],
      ['no space left on device', 'ecs', ['Downloading shards: 40%', "OSError: [Errno 28] No space left on device: '/tmp/model/model-00003.safetensors'"], /disk is full/, /volume size/],
      ['gated model (Hub 401/403)', 'sagemaker', ['huggingface_hub.errors.GatedRepoError: 403 Client Error. Cannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.1-8B/resolve/main/config.json.'], /Hub refused the model/, /Accept the model licence/],
      ['missing model (Hub 404)', 'ec2', ['huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. Repository Not Found for url: https://huggingface.co/acme/qwen-typo'], /Hub has no such model/, /Check the model id/],
      ['missing weight files', 'sagemaker', ["FileNotFoundError: [Errno 2] No such file or directory: '/opt/ml/model/model.safetensors'"], /weight files are not where the engine looks/, /config.json and the weight files/],
      ['unsupported architecture', 'ecs', ['ValueError: Model architectures [\'FooForCausalLM\'] are not supported for now.'], /does not support this model architecture/, /newer image/],
      ['wrong port', 'ec2', ['OSError: [Errno 98] error while attempting to bind on address (\'0.0.0.0\', 8080): address already in use'], /could not listen on its port/, /127.0.0.1:8081/],
      ['engine crash loop', 'sagemaker', ['engine exited with code 1', 'restarting engine', 'engine exited with code 1', 'restarting engine', 'engine exited with code 1'], /keeps crashing/, /first error/],
    ] as const
  ).map(([what, kind, lines, reason, hint]): Fault => ({
    name: `start-up log: ${what}`, kind, initialStatus: 'UPDATE_COMPLETE', stack: [[0, 'UPDATE_IN_PROGRESS']], logs: [[3 * MIN, [...lines]]],
    expect: { reason, hint }, budgetMs: 3 * MIN + 15000,
  })),
  // ---- cancellation at every stage -------------------------------------------------------------------
  { name: 'cancelled while the change set is made', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', cancelOn: 'DescribeChangeSet', expect: { reason: /Cancelled/ }, budgetMs: MIN },
  { name: 'cancelled while the stack updates: CancelUpdateStack', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', cancelOn: 'DescribeStackEvents', expect: { reason: /Cancelled/ }, budgetMs: MIN },
  { name: 'cancelled while the endpoint settles', kind: 'sagemaker', initialStatus: 'UPDATE_COMPLETE', endpoint: [[0, { EndpointStatus: 'Updating' }]], cancelOn: 'DescribeEndpoint', expect: { reason: /Cancelled/ }, budgetMs: 2 * MIN },
  { name: 'cancelled while the ECS rollout runs', kind: 'ecs', initialStatus: 'UPDATE_COMPLETE', ecs: [[0, [primary(TASK_NEW, 'IN_PROGRESS')]]], cancelOn: 'DescribeServices', expect: { reason: /Cancelled/ }, budgetMs: 2 * MIN },
  { name: 'cancelled while EC2 targets come up', kind: 'ec2', initialStatus: 'UPDATE_COMPLETE', targets: [[0, []]], cancelOn: 'DescribeTargetHealth', expect: { reason: /Cancelled/ }, budgetMs: 2 * MIN },
];
