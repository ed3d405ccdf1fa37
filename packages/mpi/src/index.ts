export { addonPath, loadMpiAddon, type MpiAddon, mpiAvailability } from './binding.js';
export { type Launcher, type LauncherWorld, launcherWorld } from './launcher.js';
export { MpiError, type MpiErrorCode } from './mpi-error.js';
export { checkLauncher, MpiWorld } from './mpi-world.js';
export {
  findMpirun,
  type MpirunFlavour,
  type MpirunOptions,
  mpirunArgs,
  mpirunFlavour,
} from './mpirun.js';
