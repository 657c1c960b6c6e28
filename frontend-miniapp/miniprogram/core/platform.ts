/**
 * WeChat's operating rules (《微信小程序平台运营规范》 14.6) forbid any purchase function for virtual goods on iOS:
 * no price, no buy button, no membership upsell, not even a disabled one, and no pointer elsewhere. Items the user
 * already owns still open (the grant lives on the server). Everything but physical `product` items is virtual here.
 */
export function platformName(): string {
  try {
    if (typeof wx.getDeviceInfo === 'function') return wx.getDeviceInfo().platform;
  } catch {
    // older base libraries
  }
  try {
    return wx.getSystemInfoSync().platform;
  } catch {
    return 'unknown';
  }
}

export function isIOS(): boolean {
  return platformName().toLowerCase() === 'ios';
}

export function isVirtual(kind: string): boolean {
  return kind !== 'product';
}

/** Whether this device may show a price and a buy button for an item of this kind. */
export function canSell(kind: string): boolean {
  return !(isIOS() && isVirtual(kind));
}
