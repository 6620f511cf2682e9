export function OnlineDot({ online }: { online: boolean }) {
  return (
    <span
      className={online ? 'dot dot--on' : 'dot'}
      role="img"
      aria-label={online ? 'online' : 'offline'}
      title={online ? 'online' : 'offline'}
    />
  );
}
