import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/react';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { useTranslation } from 'react-i18next';
import { LangToggle } from '../components/LangToggle';
import { renderWithApp } from '../test/render';
import i18n from './index';
import zhCN from './zh-CN';
import enUS from './en-US';

function Probe() {
  const { t } = useTranslation();
  return <h1>{t('nav.workbench')}</h1>;
}

function flatten(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? flatten(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(f) && !/\.test\./.test(f) ? [p] : [];
  });
}

describe('i18n', () => {
  it('defaults to zh-CN and the toggle switches to English and back', async () => {
    window.localStorage.clear();
    await i18n.changeLanguage('zh-CN');
    renderWithApp(
      <>
        <LangToggle />
        <Probe />
      </>,
    );
    expect(screen.getByRole('heading')).toHaveTextContent('工作台');
    fireEvent.click(screen.getByTestId('lang-toggle'));
    expect(await screen.findByRole('heading')).toHaveTextContent('Workbench');
    expect(window.localStorage.getItem('elasticpool.lang')).toBe('en-US');
    fireEvent.click(screen.getByTestId('lang-toggle'));
    expect(await screen.findByText('工作台')).toBeInTheDocument();
  });

  it('both languages have the same keys', () => {
    expect(flatten(enUS).sort()).toEqual(flatten(zhCN).sort());
  });

  it('every literal t() key used in src exists', () => {
    const keys = new Set(flatten(zhCN));
    const missing: string[] = [];
    const src = join(__dirname, '..');
    for (const f of sources(src)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\('([a-zA-Z]+\.[\w.-]+)'/g)) if (!keys.has(m[1])) missing.push(`${f.slice(src.length)}: ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });
});
