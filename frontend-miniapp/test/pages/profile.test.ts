import { beforeEach, describe, expect, test } from '@jest/globals';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { FakeWx, installFakeWx } from '../fake-wx';
import { mount, settle, text } from '../render';

const ME = { id: 'u1', nickname: '旧昵称', avatarUrl: null, phoneBound: false, points: 0, memberUntil: null };

let fake: FakeWx;
beforeEach(() => {
  fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'tok');
  fake.on('GET', '/api/v1/me', () => ({ status: 200, data: ME }));
});

describe('the profile page', () => {
  test('a risky nickname (422) is shown under the field; a fine one is saved', async () => {
    fake.on('PATCH', '/api/v1/me', (req) => {
      const nickname = (req.data as { nickname: string }).nickname;
      return nickname.includes('casino')
        ? { status: 422, data: { error: { code: 'content_rejected', message: '昵称包含不适宜的内容', fields: { nickname: 'risky' } } } }
        : { status: 200, data: { ...ME, nickname } };
    });
    const page = mount('pkg-me/pages/profile/profile');
    await page.instance.onLoad();
    await settle();
    expect(page.data.nickname).toBe('旧昵称');
    page.instance.onNicknameInput({ detail: { value: 'best casino' } });
    await page.instance.onSave();
    await settle();
    expect(text(page)).toContain('昵称包含不适宜的内容');
    page.instance.onNicknameInput({ detail: { value: '读者小李' } });
    expect(text(page)).not.toContain('昵称包含不适宜的内容');
    await page.instance.onSave();
    await settle();
    expect(fake.calls('PATCH', '/api/v1/me').map((r) => r.data)).toEqual([{ nickname: 'best casino' }, { nickname: '读者小李' }]);
    expect(fake.toasts).toEqual(['已保存']);
  });

  test('an empty nickname is refused before any request', async () => {
    const page = mount('pkg-me/pages/profile/profile');
    page.instance.onNicknameInput({ detail: { value: '   ' } });
    await page.instance.onSave();
    expect(fake.calls('PATCH', '/api/v1/me')).toHaveLength(0);
    expect(page.data.nicknameError).toBeTruthy();
  });

  test('chooseAvatar uploads the temporary file to /me/avatar with the token; a decline changes nothing', async () => {
    fake.on('UPLOAD', '/api/v1/me/avatar', () => ({ status: 200, data: { ...ME, avatarUrl: 'http://api.test/media/m1' } }));
    const page = mount('pkg-me/pages/profile/profile');
    await page.instance.onChooseAvatar({ detail: {} });
    expect(fake.calls('UPLOAD', '/api/v1/me/avatar')).toHaveLength(0);
    await page.instance.onChooseAvatar({ detail: { avatarUrl: 'wxfile://tmp/avatar.png' } });
    await settle();
    const up = fake.calls('UPLOAD', '/api/v1/me/avatar');
    expect(up).toHaveLength(1);
    expect(up[0].auth).toBe('Bearer tok');
    expect(up[0].data).toEqual({ file: 'wxfile://tmp/avatar.png' });
    expect(page.data.avatarUrl).toBe('http://api.test/media/m1');
  });
});
