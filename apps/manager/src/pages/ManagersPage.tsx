import { useCallback, useEffect, useState } from "react";
import { api, idOf, type Manager, type Role } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";

export default function ManagersPage() {
  const { t } = useI18n();
  const { act, isAdmin, me } = useSession();
  const [list, setList] = useState<Manager[]>([]);
  const [form, setForm] = useState({ user: "", name: "", password: "", rol: "support" as Role });
  const adminOnly = t("toast.adminOnly");
  const load = useCallback(async () => setList(await api.managers()), []);
  useEffect(() => void load(), [load]);

  const create = async () => {
    if (await act(() => api.createManager(form.user, form.name, form.password, form.rol), t("toast.done"))) {
      setForm({ user: "", name: "", password: "", rol: "support" });
      await load();
    }
  };
  return (
    <Frame title={t("menu.managers")}>
      {!isAdmin && <p className="hint" data-testid="managers-admin-only">{t("managers.adminOnly")}</p>}
      <section className="card">
        <h2>{t("managers.new")}</h2>
        <div className="action column">
          <input placeholder={t("login.email")} value={form.user} onChange={(e) => setForm({ ...form, user: e.target.value })} data-testid="manager-email" />
          <input placeholder={t("users.name")} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} data-testid="manager-name" />
          <input type="password" placeholder={t("login.password")} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} data-testid="manager-password" />
          <select value={form.rol} onChange={(e) => setForm({ ...form, rol: e.target.value as Role })} data-testid="manager-role">
            <option value="support">{t("role.support")}</option>
            <option value="admin">{t("role.admin")}</option>
          </select>
          <AdminButton isAdmin={isAdmin} testid="manager-create" title={adminOnly} label={t("managers.create")} onClick={() => void create()} />
        </div>
      </section>
      <table className="list" data-testid="managers-table">
        <thead><tr><th>{t("login.email")}</th><th>{t("users.name")}</th><th>{t("managers.role")}</th><th>{t("managers.state")}</th><th /></tr></thead>
        <tbody>
          {list.map((m) => {
            const id = idOf(m._id);
            const self = m.user === me?.user;
            return (
              <tr key={id}>
                <td>{m.user}</td><td>{m.name}</td><td>{t(m.rol === "admin" ? "role.admin" : "role.support")}</td>
                <td>{m.disabled ? t("managers.disabled") : t("managers.active")}</td>
                <td className="row-actions">
                  {!self && (
                    <>
                      <AdminButton isAdmin={isAdmin} testid={`role-${m.user}`} title={adminOnly} label={m.rol === "admin" ? t("managers.makeSupport") : t("managers.makeAdmin")}
                        onClick={() => void act(() => api.setManagerRole(id, m.rol === "admin" ? "support" : "admin"), t("toast.done")).then(load)} />
                      <AdminButton isAdmin={isAdmin} testid={`disable-${m.user}`} title={adminOnly} label={m.disabled ? t("managers.enable") : t("managers.disable")}
                        onClick={() => void act(() => api.setManagerDisabled(id, !m.disabled), t("toast.done")).then(load)} />
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Frame>
  );
}
