/**
 * The start-up report of what this device does: every wrapping algorithm × key spec (in the
 * device, on the host in the opt-in decode mode, or unsupported with the reason), every material
 * spec (held and used in the device, or why not), and the probes behind them. Logged by
 * `byok serve`, printed by `byok pkcs11 report`, and in the body of GET /readyz.
 */
import {
  allWrappingCombinations, envelopeKeyAlgorithm, MATERIAL_SPECS, WRAPPING_ALGORITHMS,
  type MaterialSpec, type WrappingAlgorithm, type WrappingKeySpec,
} from '../../algorithms/specs.js';
import type { CapabilityReport, CapabilityRow } from '../crypto-backend.js';
import type { Pkcs11Capabilities } from './capabilities.js';

/** What the probes found, for the report's `device` part. */
function probes(c: Pkcs11Capabilities): Record<string, string | boolean> {
  return {
    keyWrapWithPadding: c.kwp !== undefined ? `0x${c.kwp.toString(16).toUpperCase()}` : `none: ${c.kwpReason}`,
    aesGcm: c.gcm,
    fingerprint: c.fingerprint ?? 'none',
    oaepSha256: c.oaepSha256,
    pkcs1v15RefusesBadPadding: c.pkcs1v15RefusesBadPadding,
    reportsValueLength: c.reportsValueLength,
    allowedMechanisms: c.allowedMechanisms,
    notCopyableObjects: c.notCopyableObjects,
    notCopyableCopies: c.notCopyableCopies,
    hostDecode: c.hostDecode,
    // How a PKCS#1 / SEC1 key is told from a bad wrap (private-keys.ts, unwrap-verdicts.ts).
    pkcs1RsaKey: c.notPkcs8Verdict(),
  };
}

/** One wrapping row: the RSA layer's path, and for envelopes the key-wrap layer's needs. */
function wrappingRow(c: Pkcs11Capabilities, algorithm: WrappingAlgorithm, keySpec: WrappingKeySpec): CapabilityRow {
  const envelope = WRAPPING_ALGORITHMS[algorithm].envelope === true;
  const plan = c.unwrapPlan(envelope ? envelopeKeyAlgorithm(algorithm) : algorithm, keySpec);
  const layer = envelope ? c.temporaryKeyUnsupportedReason() : undefined;
  if ('reason' in plan) return { algorithm, keySpec, status: 'unsupported', reason: plan.reason };
  if (layer !== undefined) return { algorithm, keySpec, status: 'unsupported', reason: layer };
  return { algorithm, keySpec, status: plan.path === 'host-decode' ? 'host' : 'device' };
}

/** The report of a device's capabilities (`materialReason` is the backend's capability answer for a spec). */
export function pkcs11CapabilityReport(c: Pkcs11Capabilities, materialReason: (spec: MaterialSpec) => string | undefined): CapabilityReport {
  const wrapping = allWrappingCombinations({ envelope: true }).map(({ algorithm, keySpec }) => wrappingRow(c, algorithm, keySpec));
  const material = (Object.keys(MATERIAL_SPECS) as MaterialSpec[]).map((materialSpec): CapabilityRow => {
    const reason = materialReason(materialSpec);
    return reason === undefined ? { materialSpec, status: 'device' } : { materialSpec, status: 'unsupported', reason };
  });
  return { backend: 'pkcs11', device: probes(c), rows: [...wrapping, ...material] };
}

/** The report as text lines (the log and `byok pkcs11 report`). */
export function formatCapabilityReport(report: CapabilityReport): string {
  const lines = Object.entries(report.device ?? {}).map(([k, v]) => `${k}: ${String(v)}`);
  for (const row of report.rows) {
    const what = row.algorithm ? `${row.algorithm} × ${row.keySpec}` : `material ${row.materialSpec}`;
    lines.push(`${what}: ${row.status === 'device' ? 'in device' : row.status === 'host' ? 'on host (opt-in decode)' : `unsupported (${row.reason})`}`);
  }
  return lines.join('\n');
}
