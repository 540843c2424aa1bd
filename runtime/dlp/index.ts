/** Data-loss prevention: detectors, policy and their application (docs/dlp.md). Pure. */
export { DETECTORS, isCardNumber, isSsn, luhnValid, scanText } from './detectors.ts';
export type { DetectorId, Match } from './detectors.ts';
export { checksumIban } from './iban.ts';
export { DEFAULT_DLP_CONFIG, DEFAULT_DLP_POLICY, DLP_ACTIONS, dlpPolicyFor, parseDlpConfig } from './policy.ts';
export type { DlpAction, DlpConfig, DlpPolicy } from './policy.ts';
export { dlpActive, dlpOutgoing, dlpText, dlpValue, redactionMarker } from './apply.ts';
export type { DlpFinding, DlpOutcome, DlpWhere, OutgoingRequest } from './apply.ts';
