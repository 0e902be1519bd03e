// First: the status request (its own entry in a build; see vite.config.ts).
import "./session/earlyStatus";
import { setupIonicReact } from "@ionic/react";
import { createRoot } from "react-dom/client";

import "@ionic/react/css/core.css";
import "@ionic/react/css/normalize.css";
import "@ionic/react/css/structure.css";
import "@ionic/react/css/typography.css";
import "@ionic/react/css/padding.css";
// Not flex-utils.css nor display.css: the app uses none of their classes, and 19 KB of selectors on the
// first screen's stylesheet cost style time on a phone.
import "./theme.css";

import App from "./App";

setupIonicReact({ mode: "md" });

createRoot(document.getElementById("root")!).render(<App />);
