import { IonNote } from "@ionic/react";
import { useEffect, useState } from "react";
import { api, type Pair } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useFieldSaver } from "../../session/useFieldSaver";
import { useToast } from "../../session/useToast";

const ALL = "todos";

/** The pairs the bot may trade: all of them, or a chosen set (an empty choice falls back to all). */
export default function PairsPage() {
  const { t } = useI18n();
  const toast = useToast();
  const { account, patch } = useAccount();
  const [pairs, setPairs] = useState<Pair[] | null>(null);
  const [error, setError] = useState("");
  const chosen = account?.preferedActives && account.preferedActives !== ALL ? account.preferedActives.split(",") : [];

  useEffect(() => {
    api
      .ativos("full")
      .then((list) => setPairs([...list].sort((a, b) => a.ativo.localeCompare(b.ativo))))
      .catch((e) => setError(describeError(e, t)));
  }, [t]);

  const saver = useFieldSaver<string>("preferedActives", (e) => toast(describeError(e, t), "danger"));

  // Shown at once, saved in order: a quick second tap builds on the first, and the last choice wins.
  function save(next: string[]) {
    const value = next.length ? next.join(",") : ALL;
    patch({ preferedActives: value });
    void saver.push(value);
  }

  const toggle = (name: string) =>
    save(chosen.includes(name) ? chosen.filter((p) => p !== name) : [...chosen, name]);

  return (
    <PageFrame title={t("pairs.title")} panel>
      <IonNote>{t("pairs.note")}</IonNote>
      {error && <p role="alert">{error}</p>}
      {!pairs && !error && <Loading />}
      {pairs && (
        <div className="tiles" data-testid="pair-tiles">
          <button
            type="button"
            className={`tile${chosen.length === 0 ? " selected" : ""}`}
            aria-pressed={chosen.length === 0}
            onClick={() => save([])}
          >
            {t("pairs.all")}
          </button>
          {pairs.map((p) => (
            <button
              type="button"
              key={p.ativo}
              className={`tile${chosen.includes(p.ativo) ? " selected" : ""}${p.open === "True" ? "" : " closed"}`}
              aria-pressed={chosen.includes(p.ativo)}
              onClick={() => toggle(p.ativo)}
            >
              <span>{p.ativo}</span>
              <small>{p.open === "True" ? `${p.payout}%` : t("pairs.closed")}</small>
            </button>
          ))}
        </div>
      )}
    </PageFrame>
  );
}
