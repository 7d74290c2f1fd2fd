// The signed-in user (GET /me) and what their role lets the UI offer. The
// server refuses what a role may not do (403); these only keep viewers from
// meeting buttons that would be refused.
import { Popconfirm, Space, Tag, Tooltip, Typography } from 'antd';
import { UserOutlined } from '@ant-design/icons';
import { cloneElement, createContext, useContext, type CSSProperties, type ReactElement, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Me, Role } from '../api/models';
import { allows, canAdmin, canOperate } from '../lib/permissions';

const MeContext = createContext<Me | null>(null);

/** App provides the user it fetched; without a provider nothing is allowed. */
export function MeProvider({ me, children }: { me: Me | null; children: ReactNode }) {
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

export function usePermissions() {
  const me = useContext(MeContext);
  const role = me?.role ?? null;
  return {
    me,
    role,
    canOperate: canOperate(role),
    canAdmin: canAdmin(role),
    allows: (need: Role) => allows(role, need),
  };
}

const roleColor: Record<Role, string> = { viewer: 'default', operator: 'blue', admin: 'gold' };

/** The header's "subject · role". */
export function UserBadge() {
  const { t } = useTranslation();
  const { me } = usePermissions();
  if (!me) return null;
  return (
    <Tooltip title={t('perm.signedInWith', { method: t(`perm.method.${me.authMethod}`) })}>
      <Space size={4} data-testid="me">
        <UserOutlined />
        <Typography.Text data-testid="me-subject">{me.subject}</Typography.Text>
        <Tag color={roleColor[me.role]} data-testid="me-role" style={{ marginInlineEnd: 0 }}>
          {t(`role.${me.role}`)}
        </Tag>
      </Space>
    </Tooltip>
  );
}

type Disableable = ReactElement<{ disabled?: boolean; style?: CSSProperties; children?: ReactNode }>;

/**
 * Renders a mutation control when the user holds need (default operator);
 * otherwise hides it (hide) or shows it disabled with a tooltip naming the
 * role it needs. A Popconfirm is replaced by its (disabled) button.
 */
export function RoleGate({ need = 'operator', hide, children }: { need?: Role; hide?: boolean; children: Disableable }) {
  const { t } = useTranslation();
  const perm = usePermissions();
  if (perm.allows(need)) return children;
  if (hide) return null;
  const target = (children.type === Popconfirm ? children.props.children : children) as Disableable;
  return (
    <Tooltip title={t('perm.needs', { role: t(`role.${need}`) })}>
      {/* a disabled button gets no pointer events; the span carries the tooltip */}
      <span style={{ display: 'inline-block', cursor: 'not-allowed' }}>
        {cloneElement(target, { disabled: true, style: { ...target.props.style, pointerEvents: 'none' } })}
      </span>
    </Tooltip>
  );
}
