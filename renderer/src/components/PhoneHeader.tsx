import { Badge, Caption1, makeStyles, Subtitle2, tokens, type BadgeProps } from '@fluentui/react-components';
import type { PhoneInfo, PhoneState } from '../../../common/service/contract';
import { PhonePicture } from './PhonePicture';

const STATE_WORDS: Record<PhoneState, [string, BadgeProps['color']]> = {
  connecting: ['Connecting', 'informative'],
  pairing: ['Pairing', 'warning'],
  ready: ['Ready', 'brand'],
  provisioning: ['Signing in', 'brand'],
  rebooting: ['Restarting', 'informative'],
  'signed-in': ['Signed in', 'success'],
  failed: ['Failed', 'danger'],
  unplugged: ['Unplugged', 'subtle'],
  cancelled: ['Cancelled', 'subtle'],
  'in-use': ['In use', 'warning'],
};

const useStyles = makeStyles({
  root: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center' },
  text: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS, minWidth: 0 },
  line: { display: 'flex', gap: tokens.spacingHorizontalS, alignItems: 'center', flexWrap: 'wrap' },
  detail: { color: tokens.colorPaletteDarkOrangeForeground1 },
});

export function PhoneHeader({ phone }: { readonly phone: PhoneInfo }) {
  const styles = useStyles();
  const [words, color] = STATE_WORDS[phone.state];
  return (
    <div className={styles.root}>
      <PhonePicture modelId={phone.modelId} />
      <div className={styles.text}>
        <div className={styles.line}>
          <Subtitle2 as="h2">{phone.modelName}</Subtitle2>
          <Badge appearance="filled" color={color} aria-label={`State: ${words}`}>
            {words}
          </Badge>
          {phone.virtual && (
            <Badge appearance="outline" color="informative">
              Demo
            </Badge>
          )}
        </div>
        <Caption1>
          Serial {phone.serial} · Firmware {phone.firmware ?? 'unknown'}
        </Caption1>
        {phone.detail && <Caption1 className={styles.detail}>{phone.detail}</Caption1>}
      </div>
    </div>
  );
}
