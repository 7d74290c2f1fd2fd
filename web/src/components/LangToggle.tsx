import { Button, Tooltip } from 'antd';
import { TranslationOutlined } from '@ant-design/icons';
import { useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { getToken, onTokenChange } from '../api/client';
import { setLang } from '../i18n';

export function useToken() {
  return useSyncExternalStore(onTokenChange, getToken, getToken);
}

/** Switches between zh-CN (default) and en-US; the label names the other language. */
export function LangToggle() {
  const { t, i18n } = useTranslation();
  return (
    <Tooltip title="中文 / English">
      <Button
        type="text"
        icon={<TranslationOutlined />}
        data-testid="lang-toggle"
        onClick={() => setLang(i18n.language === 'zh-CN' ? 'en-US' : 'zh-CN')}
      >
        {t('app.language')}
      </Button>
    </Tooltip>
  );
}
