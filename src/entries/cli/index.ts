// Entry of the model-deploy command-line bundle.
import { main } from '../../cli/main';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
