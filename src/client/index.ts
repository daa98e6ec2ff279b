/**
 * `byok-hsm/client`: the customer's side of an import, with no engine and no server in it.
 * Wrap key material for an import public key (every wrapping algorithm the engine unwraps),
 * convert a private key to the PKCS#8 the service takes, and talk to the service.
 */
export {
  privateKeyToPkcs8, wrapForImport, wrapMaterial,
  type PrivateKeyInput, type WrapForImportInput, type WrapInput, type WrappedForImport, type WrappingAlgorithmName,
} from './wrap.js';
export {
  KmsServiceClient, ServiceError,
  type ImportMaterialInput, type ImportParametersResponse, type KeyInfo, type ServiceClientOptions,
} from './service-client.js';
export type { WrappingAlgorithm, WrappingAlgorithmAlias, WrappingKeySpec } from '../algorithms/specs.js';
