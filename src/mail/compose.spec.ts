import { composeMail } from './compose';

describe('composeMail', () => {
  const mail = composeMail({
    to: 'ada@example.com',
    subject: 'Reset your password',
    name: 'Ada <script>',
    paragraphs: ['Someone asked to reset the password of "ada@example.com".'],
    action: { label: 'Choose a new password', url: 'https://sessions.example/reset_password_page?token=a&b=1' },
    footer: ['If you did not ask for this, ignore this mail.'],
  });

  it('says the same words in text and HTML, with the full link in both', () => {
    expect(mail.to).toBe('ada@example.com');
    expect(mail.text).toContain('Hello Ada <script>,');
    expect(mail.text).toContain('Choose a new password: https://sessions.example/reset_password_page?token=a&b=1');
    expect(mail.text).toContain('If you did not ask for this, ignore this mail.');
    expect(mail.html).toContain('href="https://sessions.example/reset_password_page?token=a&amp;b=1"');
    expect(mail.html).toContain('Choose a new password</a>');
  });

  it('escapes every value in the HTML part', () => {
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('Hello Ada &lt;script&gt;,');
    expect(mail.html).toContain('&quot;ada@example.com&quot;');
  });

  it('greets without a name, and leaves out an action it was not given', () => {
    const plain = composeMail({ to: 'x@example.com', subject: 'S', paragraphs: ['One.'] });
    expect(plain.text).toBe('Hello,\n\nOne.');
    expect(plain.html).not.toContain('<a ');
  });
});
