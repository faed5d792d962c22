import { makeStyles } from '@fluentui/react-components';

const PICTURES: Record<string, string> = {
  CX600: 'cx600.svg',
  CX700: 'cx700.svg',
  CX3000: 'cx3000.svg',
  HP4120: 'hp4120.svg',
  AASTRA6725IP: 'aastra6725ip.svg',
};

const useStyles = makeStyles({ picture: { width: '96px', height: '72px', flexShrink: 0 } });

/** The model's drawing; decorative (the model name is written beside it). */
export function PhonePicture({ modelId }: { readonly modelId: string }) {
  const styles = useStyles();
  return <img className={styles.picture} src={`phones/${PICTURES[modelId] ?? 'cx600.svg'}`} alt="" aria-hidden="true" />;
}
