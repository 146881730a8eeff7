import type { Check } from '../types.ts';
import { bestPracticeCheck } from './best-practice.ts';
import { capabilitiesBlockCheck } from './capabilities-block.ts';
import { imageContentProtectionCheck } from './image-content-protection.ts';
import { imageReferenceCheck } from './image-reference.ts';
import { limitContainerPrivilegesCheck } from './limit-container-privileges.ts';
import { nonCompliantImagesCheck } from './non-compliant-images.ts';
import { registriesAllowedCheck } from './registries-allowed.ts';
import { unregisteredImagesCheck } from './unregistered-images.ts';
import { volumesBlockedCheck } from './volumes-blocked.ts';

/**
 * Every admission check, in report order. `fileThreatProtection` is not an admission check of this engine;
 * `containerRuntimeProfiles` is a mapping, not a check (see `runtime-profiles.ts`). `imageContentProtection` decides
 * on facts the signature I/O stage gathered before `evaluate` (`AdmissionInput.signatures`).
 */
export const CHECKS: readonly Check[] = [
  imageReferenceCheck,
  registriesAllowedCheck,
  unregisteredImagesCheck,
  nonCompliantImagesCheck,
  limitContainerPrivilegesCheck,
  capabilitiesBlockCheck,
  volumesBlockedCheck,
  bestPracticeCheck,
  imageContentProtectionCheck,
];
