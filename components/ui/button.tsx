import Link from 'next/link';
import type { ButtonHTMLAttributes, ComponentProps } from 'react';
import styles from './controls.module.css';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

interface Look {
  variant?: ButtonVariant;
  size?: 'normal' | 'small';
}

export function buttonClass(
  { variant = 'secondary', size = 'normal' }: Look = {},
  extra?: string,
): string {
  return [styles.button, styles[variant], size === 'small' ? styles.small : '', extra ?? '']
    .filter(Boolean)
    .join(' ');
}

export function Button({
  variant,
  size,
  className,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & Look) {
  return <button type={type} className={buttonClass({ variant, size }, className)} {...rest} />;
}

/** A link that looks like a button (navigation, not an action). */
export function LinkButton({
  variant,
  size,
  className,
  ...rest
}: ComponentProps<typeof Link> & Look) {
  return <Link className={buttonClass({ variant, size }, className)} {...rest} />;
}
