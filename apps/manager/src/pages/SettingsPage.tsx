import { useCallback, useEffect, useState } from "react";
import { api } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";

export default function SettingsPage() {
  const { t } = useI18n();
  const { act, isAdmin } = useSession();
  const [terms, setTerms] = useState("");
  const [maintenance, setMaintenance] = useState(false);
  const [message, setMessage] = useState("");
  const [version, setVersion] = useState("");
  // The fields stay read-only until the saved settings arrive, so a late load never wipes what was typed.
  const [loaded, setLoaded] = useState(false);
  const adminOnly = t("toast.adminOnly");

  const load = useCallback(async () => {
    const docs = await api.auxiliar();
    const by = new Map(docs.map((d) => [d.name, d]));
    setTerms(String(by.get("Terms")?.value ?? ""));
    setMaintenance(by.get("Maintenance")?.value === true);
    setMessage(by.get("Maintenance")?.message ?? "");
    setVersion(String(by.get("appVersion")?.value ?? ""));
    setLoaded(true);
  }, []);
  useEffect(() => void load(), [load]);

  const switchMaintenance = async (on: boolean) => {
    if (await act(() => api.setMaintenance(on, message), t("toast.done"))) await load();
  };
  return (
    <Frame title={t("menu.settings")}>
      <section className="card" data-testid="maintenance">
        <h2>{t("settings.maintenance")}</h2>
        <p data-testid="maintenance-state">{maintenance ? t("settings.maintenanceOn") : t("settings.maintenanceOff")}</p>
        <input value={message} onChange={(e) => setMessage(e.target.value)} disabled={!loaded} placeholder={t("settings.maintenanceMessage")} data-testid="maintenance-message" />
        <div className="row-actions">
          <AdminButton isAdmin={isAdmin} testid={maintenance ? "maintenance-off" : "maintenance-on"} title={adminOnly}
            label={maintenance ? t("settings.switchOff") : t("settings.switchOn")} onClick={() => void switchMaintenance(!maintenance)} />
        </div>
      </section>
      <section className="card">
        <h2>{t("settings.version")}</h2>
        <div className="action">
          <input value={version} onChange={(e) => setVersion(e.target.value)} disabled={!loaded} data-testid="app-version" size={10} />
          <AdminButton isAdmin={isAdmin} testid="app-version-save" title={adminOnly} label={t("common.save")} onClick={() => void act(() => api.setAppVersion(version.trim()), t("toast.done"))} />
        </div>
      </section>
      <section className="card wide">
        <h2>{t("settings.terms")}</h2>
        <div className="terms-editor">
          <textarea value={terms} onChange={(e) => setTerms(e.target.value)} disabled={!loaded} data-testid="terms-html" />
          {/* The preview runs no script: a sandboxed frame. The server sanitises what is saved. */}
          <iframe title={t("settings.preview")} sandbox="" srcDoc={terms} className="preview" />
        </div>
        <p className="hint">{t("settings.termsHint")}</p>
        <AdminButton isAdmin={isAdmin} testid="terms-save" title={adminOnly} label={t("common.save")}
          onClick={() => void act(() => api.setTerms(terms), t("toast.done")).then((answer) => { if (answer) setTerms(answer.html); })} />
      </section>
    </Frame>
  );
}
