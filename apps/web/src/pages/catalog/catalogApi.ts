// The catalog routes over the user's client; the report's shapes and the save rules are shared
// with the manager app (apps/shared/src/catalog.ts).

import { call } from "../../api/client";
import { catalogRoutes } from "../../../../shared/src/catalog";

export type * from "../../../../shared/src/catalog";

export const { runCatalog, saveStrategy } = catalogRoutes({ call });
