import { IonCard, IonCardContent } from "@ionic/react";
import type { Operating } from "../../api";
import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney } from "../../lib/format";
import { tryProgress } from "../../lib/operating";
import ProgressRing from "./ProgressRing";

/** The cycle in flight: pair, direction and amount, and one ring per try (entry, then each gale). */
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
          {operating.tries.map((attempt, i) => (
            <div className="ring-box" key={i}>
              <ProgressRing
                value={tryProgress(attempt, now)}
                label={i === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: i })}
              />
              <span>{i === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: i })}</span>
            </div>
          ))}
        </div>
      </IonCardContent>
    </IonCard>
  );
}
