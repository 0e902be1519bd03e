// The copy routes over the user's client; the shapes and stake rules are shared with the
// manager app (apps/shared/src/copy.ts).

import { call } from "../../api/client";
import { traderCopyRoutes } from "../../../../shared/src/copy";

export {
  FIXED_RANGE,
  MULTIPLIER_RANGE,
  parseMultiplier,
  stakeChoice,
} from "../../../../shared/src/copy";
export type {
  CopiedTrade,
  CopySummary,
  Copying,
  FollowChoice,
  Followable,
  StakeChoice,
} from "../../../../shared/src/copy";

export const copyApi = traderCopyRoutes({ call });
