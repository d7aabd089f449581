/**
 * jest setupFiles: no test reaches the public Hugging Face Hub. The memory and pinning checks ask the
 * Hub for what a spec leaves out; tests that exercise that point HF_ENDPOINT at the loopback fake
 * (tests/support/hf-hub.ts) and clear HF_HUB_OFFLINE themselves.
 */
process.env.HF_HUB_OFFLINE ??= '1';
