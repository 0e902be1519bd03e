import { IonCard, IonCardContent } from "@ionic/react";
import type { Operating } from "../../api";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney } from "../../lib/format";
import { formatCountdown, tryProgress, tryState } from "../../lib/operating";
import ProgressRing from "./ProgressRing";

const RESULT_CLASS = { win: "win", loss: "loss", doji: "even", failed: "loss" } as const;

/** The cycle in flight: pair, direction and amount; per try (entry, then each gale) its result as
 * soon as it settles, and until then a countdown to its expiry. */
export default function OperatingCard({ operating, now }: { operating: Operating; now: number }) {
  const { t, language } = useI18n();
  const direction = operating.operacao === "put" ? "put" : "call";
  return (
    <IonCard className="operating-card" data-testid="operating-card">
      <IonCardContent>
        <p className="overline">{t("glimpse.operating")}</p>
        <h2>
          {operating.active} - <span className={`direction ${direction}`}>{operating.operacao.toUpperCase()}</span> -{" "}
          {formatMoney(operating.money, language)}
        </h2>
        <div className="rings">
          {operating.tries.map((attempt, i) => {
            const name = i === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: i });
            const state = tryState(attempt, now);
            const settled = state.kind === "win" || state.kind === "loss" || state.kind === "doji" || state.kind === "failed";
            const text =
              state.kind === "running"
                ? formatCountdown(state.secondsLeft)
                : t(`operating.${state.kind}` as MessageKey);
            return (
              <div className={`ring-box${settled ? ` settled ${RESULT_CLASS[state.kind]}` : ""}`} key={i} data-testid="try" data-state={state.kind}>
                <ProgressRing value={settled ? 1 : tryProgress(attempt, now)} label={`${name}: ${text}`} text={text} />
                <span>{name}</span>
              </div>
            );
          })}
        </div>
      </IonCardContent>
    </IonCard>
  );
}
