import { useIonToast } from "@ionic/react";
import { useCallback } from "react";

/** A short message at the bottom: "danger" for failures. */
export function useToast() {
  const [present] = useIonToast();
  return useCallback(
    (message: string, color: "success" | "danger" | "medium" = "medium") =>
      present({ message, duration: 2500, position: "bottom", color }),
    [present],
  );
}
