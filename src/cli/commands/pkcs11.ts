/**
 * `byok pkcs11 report`: open the configured PKCS#11 device as `byok serve --backend pkcs11`
 * would, and print its capability report — every wrapping algorithm × key spec and material
 * spec: in the device, on the host (opt-in decode), or unsupported with the reason — then close.
 */
import { pkcs11Options } from '../../config/config.js';
import { settingsHelp } from '../../config/settings-table.js';
import { commandConfig, defineCommand, EXIT, UsageError } from '../command-line.js';

const usage = `Usage: byok pkcs11 report [--pkcs11-module PATH] [--pkcs11-token-label LABEL] [--config FILE] [...]

Opens the PKCS#11 device with the settings byok serve --backend pkcs11 uses (PIN from
BYOK_PKCS11_PIN or --pkcs11-config), runs its start-up probes, prints what it can do, and closes:
the same report byok serve logs at start-up and GET /readyz shows.

${settingsHelp('pkcs11')}

Exit codes: 0 reported, 1 the device could not be opened, 2 usage error.`;

export const command = defineCommand({ name: 'pkcs11', summary: 'report what a PKCS#11 device can do', usage }, async (argv) => {
  const [action, ...rest] = argv;
  if (action !== 'report') throw new UsageError('the only action is: byok pkcs11 report');
  const config = commandConfig('pkcs11', rest);
  const { createPkcs11Backend, formatCapabilityReport } = await import('../../backends/pkcs11/index.js');
  const backend = await createPkcs11Backend(pkcs11Options(config));
  try {
    process.stdout.write(formatCapabilityReport(backend.capabilityReport()) + '\n');
  } finally {
    await backend.close();
  }
  return EXIT.OK;
});
