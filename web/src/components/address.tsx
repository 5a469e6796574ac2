/** An address shortened for reading, whole for copying and screen readers. */
export function AddressText({ address }: { address: string }) {
  return (
    <code title={address}>
      {address.slice(0, 6)}…{address.slice(-4)}
    </code>
  );
}
