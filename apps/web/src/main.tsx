// First: the status request (its own entry in a build; see vite.config.ts).
import "./session/earlyStatus";
import { setupIonicReact } from "@ionic/react";
import { createRoot } from "react-dom/client";

import "@ionic/react/css/core.css";
import "@ionic/react/css/normalize.css";
import "@ionic/react/css/structure.css";
import "@ionic/react/css/typography.css";
import "@ionic/react/css/padding.css";
import "@ionic/react/css/flex-utils.css";
import "@ionic/react/css/display.css";
import "./theme.css";

import App from "./App";

setupIonicReact({ mode: "md" });

createRoot(document.getElementById("root")!).render(<App />);
