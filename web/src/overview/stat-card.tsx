interface Props {
  label: string;
  value: string;
  detail?: string;
  href?: string;
  tone?: 'bad';
}

export function StatCard({ label, value, detail, href, tone }: Props) {
  const body = (
    <>
      <span className="stat__label">{label}</span>
      <span className={tone === 'bad' ? 'stat__value stat__value--bad' : 'stat__value'}>
        {value}
      </span>
      {detail && <span className="stat__detail muted">{detail}</span>}
    </>
  );
  return href ? (
    <a className="stat card" href={href}>
      {body}
    </a>
  ) : (
    <div className="stat card">{body}</div>
  );
}
