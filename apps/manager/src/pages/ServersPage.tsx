import { formatAge } from "../../../shared/src/format";
import { api } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { usePoll } from "../lib/hooks";
import { useSession } from "../session";

export default function ServersPage() {
  const { t } = useI18n();
  const { act, isAdmin } = useSession();
  const { data } = usePoll(api.overview, 2000);
  const adminOnly = t("toast.adminOnly");
  return (
    <Frame title={t("menu.servers")}>
      <p className="hint">{t("servers.lease", { s: data?.lease ?? "—" })}</p>
      <table className="list" data-testid="servers-table">
        <thead><tr><th>{t("servers.name")}</th><th>{t("servers.status")}</th><th>{t("servers.user")}</th><th>{t("servers.heartbeat")}</th><th /></tr></thead>
        <tbody>
          {(data?.servers ?? []).map((s) => (
            <tr key={s.name} className={s.alive ? "" : "dead"}>
              <td>{s.name}{s.preferential && <span className="tag">{t("servers.preferential")}</span>}{s.drain && <span className="tag warn">{t("servers.draining")}</span>}</td>
              <td>{s.status}</td>
              <td className="mono">{s.target || "—"}</td>
              <td>{formatAge(s.age)}</td>
              <td className="row-actions">
                <AdminButton isAdmin={isAdmin} testid={`pref-${s.name}`} title={adminOnly} label={s.preferential ? t("servers.unprefer") : t("servers.prefer")} onClick={() => void act(() => api.setPreferential(s.name, !s.preferential), t("toast.done"))} />
                <AdminButton isAdmin={isAdmin} testid={`drain-${s.name}`} title={adminOnly} label={s.drain ? t("servers.undrain") : t("servers.drain")} onClick={() => void act(() => api.setDrain(s.name, !s.drain), t("toast.done"))} />
                <AdminButton isAdmin={isAdmin} testid={`release-${s.name}`} title={adminOnly} label={t("servers.release")} onClick={() => void act(() => api.releaseUser(s.name), t("toast.done"))} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Frame>
  );
}
