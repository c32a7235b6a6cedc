import { Fragment } from 'react';
import { codePointName, DIRECTION_CONTROL_CLASS } from '../../../protocol/misleading-text.js';

const SPLIT = new RegExp(`([${DIRECTION_CONTROL_CLASS}])`, 'u');

/** Text with each direction control shown as a marked `U+202E` in its place instead of reordering what follows. */
export function Revealed({ text }: { text: string }) {
  const parts = text.split(SPLIT);
  if (parts.length === 1) return <>{text}</>;
  return (
    <>
      {parts.map((part, index) =>
        index % 2 === 1 ? (
          <mark key={index} className="hidden-char" title="A character that changes the direction of the text after it">
            {codePointName(part)}
          </mark>
        ) : (
          <Fragment key={index}>{part}</Fragment>
        ),
      )}
    </>
  );
}

/** Said above a diff or a log holding direction controls: the order on screen may not be the order that runs. */
export function DirectionWarning() {
  return (
    <p className="direction-warning small" role="note">
      This holds characters that change the direction of text, so it could run differently from how it reads. They are shown marked, in place.
    </p>
  );
}
